package io.mancom.core.spi;

/**
 * Takes over the channels of a service instead of the runtime's connection handling: a relay
 * ({@code handler = forward}), a tunnel, a proxy. Registered per service on the runtime
 * ({@code ManComRuntime.handleLinks(service, handler)}); the runtime then routes every link of that
 * service (a connection its listener accepted, or one a shared port's sniffer gave it) here.
 *
 * <h2>Contract</h2>
 * {@link #channelOpened} runs on the channel's event loop with the channel active, auto-read off
 * and nothing read yet, except that on a port shared by {@code match} the bytes the sniffer read
 * are fired into the pipeline (from its head) right after this method returns, before anything
 * read later: the handler installs its pipeline in the call, so that they reach it, and turns
 * reading on when it is ready for more. From then on the channel is the handler's: it reads,
 * writes, closes it, and releases every buffer that reaches its handlers. The runtime does not
 * count these channels as connections of the service.
 *
 * <p>Threading: called on the channel's loop; must not block. Errors: an exception thrown closes
 * the channel.
 */
@FunctionalInterface
public interface LinkHandler {
    /** Takes over {@code channel}. See the class comment for the state it arrives in. */
    void channelOpened(io.netty.channel.Channel channel);
}
