package io.mancom.proxy;

import io.netty.channel.Channel;

/**
 * Takes over a link that was just accepted: the shape of the core's coming
 * {@code io.mancom.core.spi.LinkHandler}, which {@code mancom serve} will call per service; until
 * it is there, {@link ProxyServer} calls it from a server socket of its own.
 *
 * <h2>Contract</h2>
 * {@link #channelOpened} is called once per link, on the channel's event loop, with the channel
 * registered and active, auto-read off and nothing read yet. The handler installs its pipeline
 * and turns reading on; from then on the channel is the handler's (it closes it when done).
 * It must not block and must not throw: a handler that cannot serve the link closes it.
 */
public interface LinkHandler {

    /** Takes over {@code channel}; see the interface's contract. */
    void channelOpened(Channel channel);
}
