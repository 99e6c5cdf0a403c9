package io.mancom.daemon.internal;

import io.mancom.EndPoint;
import io.netty.channel.Channel;

/**
 * What the daemon runs for one {@code scope = system} service (or, for {@link RelayOwner}, for
 * the services of one shared link): it owns the endpoint and hands the service's connections to
 * the processes attached to it (docs/daemon.md, "Attach").
 *
 * <p>Lifecycle: created and started by the daemon at start or reload, {@link #close()}d when the
 * service is removed or moved, or when the daemon stops. Thread-safe.
 */
interface Owner extends AutoCloseable {

    /** How this owner hands connections over: {@code fds}, {@code device} or {@code mux} (the ManCom-Carry header). */
    String carry();

    /** Whether this owner serves {@code service}. */
    boolean serves(String service);

    /**
     * The endpoint it serves, as bound (a TCP port 0 resolved), or the configured one while it is
     * not bound yet.
     */
    EndPoint endpoint(String service);

    /**
     * Takes an attach connection of {@code service} whose {@code 101} has been written and whose
     * HTTP handlers are gone. Called on the connection's event loop; the owner installs its own
     * handlers (the descriptor protocol, or a mux session) and turns reading on. When the
     * connection closes, the process has detached; what it had not taken goes to the next one.
     *
     * @param peer who is on the other end (credentials checked already)
     */
    void attach(String service, Channel connection, Peer peer);

    /** Its figures for the daemon's status and metrics. Any thread. */
    OwnerStatus status(String service);

    /**
     * Why this owner cannot serve {@code service} now (its port is taken, its device is not built
     * yet...), or null when it can: an attach is then refused with {@code 503 NOT_READY} and this
     * text. Any thread.
     */
    default String notReady(String service) {
        return null;
    }

    /**
     * Connections of {@code service} closed without being handed over, by reason (a Prometheus
     * label value such as {@code hold_timeout}); the sum is {@link OwnerStatus#heldTooLong()}.
     * Any thread.
     */
    default java.util.Map<String, Long> dropped(String service) {
        return java.util.Map.of("hold_bound", status(service).heldTooLong());
    }

    /** Stops serving: closes the endpoint, the held connections and every attach connection. */
    @Override
    void close();

    /**
     * @param attached       attach connections now (processes serving it)
     * @param held           connections held now, waiting for a process
     * @param handedOver     connections given to processes so far
     * @param heldTooLong    held connections closed past hold.timeout or hold.connections
     */
    record OwnerStatus(int attached, int held, long handedOver, long heldTooLong) {
    }
}
