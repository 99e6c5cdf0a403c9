package io.mancom.spi;

/**
 * Where a {@link Transport} hands the links it opens. The runtime implements it.
 *
 * <p>The runtime's sinks also implement richer interfaces that transports built on the runtime's
 * own machinery use (mancom-core's {@code ChannelSink} takes a Netty channel); a transport checks
 * for the interface it needs with {@code instanceof}.
 */
public interface LinkSink {

    /** The service (or client) the links are for; for log and error messages. */
    String service();
}
