package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.TransportType;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.spi.Listener;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The services that share one multiplexed link: the same endpoint, {@code mux} on. The link (and
 * its mux session) belongs to the group, not to any one service; each service is reached by its
 * name in the stream preamble. The link runs on the settings of the first member by name.
 *
 * <p>Mutable fields are guarded by the runtime's lock (the {@link DeMuxer}'s); the session set is concurrent.
 */
final class LinkGroup {
    final EndPoint endpoint;
    final Map<String, Service> members;
    final Service first;
    final MuxSettings mux;
    /** Serial and USB links have no dialer: both ends configure (or negotiate) their roles. */
    final boolean symmetric;

    /** Sessions on links this runtime accepted or opened as a server (one for a device). */
    final Set<MuxSessionHandler> served = ConcurrentHashMap.newKeySet();

    // Guarded by the runtime's lock.
    Listener listener;
    /** Completed by the listener's next link: connects wait on it while a device is away. */
    CompletableFuture<MuxSessionHandler> nextServed;
    CompletableFuture<EndPoint> ready;
    CompletableFuture<MuxSessionHandler> dialed;

    LinkGroup(EndPoint endpoint, List<Service> services) {
        this.endpoint = endpoint;
        Map<String, Service> m = new TreeMap<>();
        services.forEach(s -> m.put(s.name(), s));
        this.members = m;
        this.first = m.values().iterator().next();
        this.mux = MuxSettings.of(first.settings);
        this.symmetric = endpoint.type() != TransportType.TCP;
    }

    ServiceSettings linkSettings() {
        return first.settings;
    }

    /** Whether any member is served here (has callbacks or a blocking listener). */
    boolean inUse() {
        return members.values().stream().anyMatch(s -> s.mode != Service.Mode.NONE);
    }

    /** A live session this runtime can open streams on without dialling, if any. */
    MuxSessionHandler liveSession() {
        if (symmetric) {
            // A device has one link: the one the listener opened is also the way out.
            for (MuxSessionHandler s : served) {
                if (s.isOpen()) {
                    return s;
                }
            }
        }
        CompletableFuture<MuxSessionHandler> d = dialed;
        if (d != null && d.isDone() && !d.isCompletedExceptionally() && d.join().isOpen()) {
            return d.join();
        }
        return null;
    }

    String names() {
        return String.join(", ", members.keySet());
    }
}
