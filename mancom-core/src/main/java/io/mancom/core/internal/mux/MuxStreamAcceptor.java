package io.mancom.core.internal.mux;

/**
 * Decides about each stream the peer opens: the seam between a {@link MuxSessionHandler} and the
 * runtime that turns streams into connections.
 *
 * <h2>Lifecycle</h2>
 * The session calls {@link #accept} once per inbound stream: at once on OpenStream with
 * {@code routing = none}, or once the stream's service preamble has arrived with
 * {@code routing = service}. The stream is not registered yet: the acceptor adds its handlers
 * to {@code stream.pipeline()} and may set options (auto-read, water marks, half-closure), the way
 * a {@code ServerBootstrap} child handler does. After an accept the session registers the stream
 * on the link's event loop, which fires {@code channelRegistered} and {@code channelActive} and
 * delivers the data that arrived meanwhile. After a refusal the session sends CloseStream and
 * drops the stream; the acceptor must not keep it.
 *
 * <h2>Threading</h2>
 * Called on the link's event loop. It must be quick and must not block: the session's read loop,
 * and with it every other stream of the link, waits for it. A service that is not ready to take
 * data yet should accept and turn auto-read off rather than wait.
 *
 * <h2>Errors</h2>
 * An exception thrown by the acceptor refuses the stream and is logged.
 */
@FunctionalInterface
public interface MuxStreamAcceptor {

    /** Refuses every stream: for a session that only opens streams. */
    MuxStreamAcceptor REFUSE_ALL = (stream, service) -> false;

    /**
     * Takes or refuses an inbound stream.
     *
     * @param stream  the new, unregistered stream
     * @param service the service named by the stream's preamble, or {@code null} with
     *                {@code routing = none} (the stream belongs to the link's own service)
     * @return true if the stream is accepted (handlers installed), false to refuse it
     */
    boolean accept(MuxStreamChannel stream, String service);

    /**
     * The session turned a stream away before offering it ({@code mux.open-timeout}), for
     * monitoring. On the link's loop; must be quick. The default counts nothing.
     */
    default void refused(io.mancom.core.spi.Refusal why) {
    }
}
