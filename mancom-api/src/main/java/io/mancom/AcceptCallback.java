package io.mancom;

/**
 * Runs for every new {@link Connection} of a service: an accepted TCP connection, a serial line
 * or USB device that was opened, or a mux stream that the peer opened.
 *
 * <p>Runs on the connection's event loop unless the registration named an executor; it must not
 * block on the event loop. A {@link RuntimeException} thrown here closes the connection with that
 * exception as the cause.
 */
@FunctionalInterface
public interface AcceptCallback {
    /** A connection of the service was opened. */
    void onAccept(Connection connection);
}
