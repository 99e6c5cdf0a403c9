package io.mancom;

import java.util.Map;
import java.util.Objects;

/**
 * One configured service of a runtime at one moment: how it is served and what its channels have
 * done. Part of {@link ManComStatus}.
 *
 * <h2>Values</h2>
 * Totals ({@code acceptedTotal}, bytes, errors, reconnects) count since the runtime started,
 * over every channel the service ever had, closed ones included, and never go down. Open counts
 * and the write queue are the live channels' values now. A mux session's own bytes are not in
 * its services' totals: its streams' bytes are.
 *
 * <h2>Consistency and threading</h2>
 * An immutable value, safe to share between threads; each value is read on its own.
 *
 * @param name            the service's name
 * @param transport       the transport of its endpoint
 * @param endpoint        its configured endpoint
 * @param bound           where it is bound in this runtime (an ephemeral port resolved), or null
 * @param scope           who owns the endpoint
 * @param state           whether it is served
 * @param why             why it is not serving (for {@link State#FAILED} and
 *                        {@link State#WAITING_FOR_DEVICE}), or null
 * @param style           the API style it is served with
 * @param connectionsOpen its open connections (TCP connections, devices and mux streams)
 * @param acceptedTotal   connections and streams a peer opened to it
 * @param bytesIn         bytes received over all its connections
 * @param bytesOut        bytes sent over all its connections
 * @param errors          connections that closed with a failure, and other failures, by reason;
 *                        reasons that never happened are absent
 * @param reconnects      how often its device was lost and reopened
 * @param muxStreamsOpen  of {@code connectionsOpen}, the mux streams
 * @param writeQueueBytes bytes queued for sending over all its open connections
 */
public record ServiceStatus(String name, TransportType transport, EndPoint endpoint, EndPoint bound, Scope scope,
                            State state, String why, Style style, int connectionsOpen, long acceptedTotal,
                            long bytesIn, long bytesOut, Map<ManComException.Reason, Long> errors, long reconnects,
                            int muxStreamsOpen, long writeQueueBytes) {

    /** Who owns a service's endpoint. */
    public enum Scope {
        /** This runtime binds and opens the endpoint itself. */
        PROCESS,
        /** The system daemon owns the endpoint. */
        SYSTEM
    }

    /** Whether a service is served. */
    public enum State {
        /** Nothing in this runtime serves it (it may still have client connections). */
        IDLE,
        /** Binding or opening its endpoint. */
        STARTING,
        /** Bound and taking connections (or, for a device, open). */
        LISTENING,
        /** Its device is absent or lost, and the runtime keeps trying to open it. */
        WAITING_FOR_DEVICE,
        /** It cannot be served; {@link ServiceStatus#why()} says why. */
        FAILED
    }

    /** The API style a service is served with. */
    public enum Style {
        /** Not served (yet). */
        NONE,
        /** Callbacks: registerAcceptor / registerDataReceiver. */
        CALLBACKS,
        /** Blocking: accept / listen. */
        BLOCKING
    }

    public ServiceStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(scope, "scope");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(style, "style");
        errors = Map.copyOf(errors);
    }

    /** The failures of one reason (0 if none). */
    public long errors(ManComException.Reason reason) {
        return errors.getOrDefault(reason, 0L);
    }
}
