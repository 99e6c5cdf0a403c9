package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.ServiceStatus;
import io.mancom.TransportType;
import io.mancom.core.internal.config.ScopeSettings;
import io.mancom.core.internal.monitor.ServiceSource;
import io.mancom.core.spi.Settings;
import io.mancom.core.spi.StatusReporting;
import io.mancom.spi.Listener;

import java.util.concurrent.CompletableFuture;

/**
 * Tells the monitor how each of the {@link DeMuxer}'s services is served: reads a service's mode,
 * readiness and listener under the DeMuxer's lock, and asks a listener that keeps retrying (a
 * device) why it is not serving outside it. Thread-safe; called for status snapshots only.
 */
final class ServiceStates implements ServiceSource {
    private final DeMuxer demuxer;

    ServiceStates(DeMuxer demuxer) {
        this.demuxer = demuxer;
    }

    @Override
    public ServiceStatus.Scope scope(String name) {
        return ScopeSettings.of(demuxer.service(name).settings).scope();
    }

    @Override
    public ServiceState state(String name) {
        Service s = demuxer.service(name);
        Service.Mode mode;
        CompletableFuture<EndPoint> ready;
        Listener listener;
        synchronized (demuxer) {
            mode = s.mode;
            ready = s.ready;
            listener = s.group != null ? s.group.listener : s.port != null ? s.port.listener : s.listener;
        }
        ServiceStatus.Style style = switch (mode) {
            case NONE -> ServiceStatus.Style.NONE;
            case CALLBACK -> ServiceStatus.Style.CALLBACKS;
            case BLOCKING -> ServiceStatus.Style.BLOCKING;
        };
        if (mode == Service.Mode.NONE || ready == null) {
            return new ServiceState(ServiceStatus.State.IDLE, null, style, null);
        }
        if (!Settings.of(s.settings).getBoolean("listen")) {
            return new ServiceState(ServiceStatus.State.IDLE, "listen = off: takes streams over links it dials", style,
                    null);
        }
        String waiting = listener instanceof StatusReporting r ? r.status() : null;
        boolean device = s.settings.endpoint().type() != TransportType.TCP;
        if (ready.isCompletedExceptionally()) {
            String why;
            try {
                ready.join();
                why = null;
            } catch (RuntimeException e) {
                why = Futures.unwrap(e).getMessage();
            }
            return new ServiceState(ServiceStatus.State.FAILED, why, style, null);
        }
        if (waiting != null && device) {
            return new ServiceState(ServiceStatus.State.WAITING_FOR_DEVICE, waiting, style, Service.bound(ready));
        }
        if (!ready.isDone()) {
            return new ServiceState(ServiceStatus.State.STARTING, waiting, style, null);
        }
        return new ServiceState(ServiceStatus.State.LISTENING, null, style, Service.bound(ready));
    }
}
