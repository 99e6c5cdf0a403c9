package io.mancom.core.spi;

import io.mancom.EndPoint;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.spi.LinkSink;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * The runtime's {@link LinkSink} for transports built on Netty: a transport hands it each channel
 * it opens, and the runtime turns the channel into a {@link io.mancom.Connection}.
 */
public interface ChannelSink extends LinkSink {

    /**
     * Set by a transport on channels whose addresses are not socket addresses (devices): the
     * {@link io.mancom.Connection#local()} endpoint. Without it the runtime derives the endpoint
     * from {@link Channel#localAddress()}, or uses the configured one.
     */
    AttributeKey<EndPoint> LOCAL_ENDPOINT = AttributeKey.valueOf("mancom.localEndPoint");

    /** As {@link #LOCAL_ENDPOINT}, for {@link io.mancom.Connection#remote()}. */
    AttributeKey<EndPoint> REMOTE_ENDPOINT = AttributeKey.valueOf("mancom.remoteEndPoint");

    /** The settings of the service the links are for (endpoint, buffers, transport options). */
    ServiceSettings settings();

    /**
     * Takes over a channel that is registered on one of {@link NettyRuntime#group()}'s loops and
     * active. The channel may come with auto-read off (nothing must be read before the runtime's
     * handlers are in place); the runtime turns reading on. The runtime appends its handlers to the channel's pipeline; the transport's own
     * handlers (framing, device adaptation) stay in front of them. Must be called on the
     * channel's event loop.
     */
    void channelOpened(Channel channel);

    /**
     * The transport turned a connection away before handing it over (a limit, an allow-list, a
     * failed accept); the runtime counts it for the service. Any thread; must be cheap. The
     * default counts nothing.
     */
    default void refused(Refusal why) {
    }
}
