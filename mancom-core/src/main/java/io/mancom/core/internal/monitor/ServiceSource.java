package io.mancom.core.internal.monitor;

import io.mancom.EndPoint;
import io.mancom.ServiceStatus;

/**
 * Where the {@link Monitor} learns how each service is served right now: the runtime's service
 * registry implements it. Called from any thread, for a status snapshot (not on the hot path).
 */
public interface ServiceSource {

    /** How one configured service is served now. */
    ServiceState state(String service);

    /** Who owns the service's endpoint: this runtime, or the system daemon. */
    default ServiceStatus.Scope scope(String service) {
        return ServiceStatus.Scope.PROCESS;
    }

    /**
     * How a service is served.
     *
     * @param state its state
     * @param why   why it is failing or waiting, or null
     * @param style its API style
     * @param bound where it is bound, or null
     */
    record ServiceState(ServiceStatus.State state, String why, ServiceStatus.Style style, EndPoint bound) {
    }
}
