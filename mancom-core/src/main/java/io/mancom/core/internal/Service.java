package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.core.internal.config.Framing;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.spi.Listener;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One configured service and how it is served right now. The mutable fields are guarded by the
 * runtime's lock (the {@link DeMuxer}'s); the callback lists are read lock-free by event loops.
 */
final class Service implements Callbacks {
    enum Mode { NONE, CALLBACK, BLOCKING }

    final ServiceSettings settings;
    /** How its connections cut bytes into messages (validated by the loader). */
    final Framing framing;
    final CopyOnWriteArrayList<Acceptor> acceptors = new CopyOnWriteArrayList<>();
    volatile Receiver receiver;
    final Set<ChannelConnection> connections = ConcurrentHashMap.newKeySet();

    /** The multiplexed link this service shares, or null when it has links of its own. */
    LinkGroup group;
    /** The TCP port this service shares by its first bytes ({@code match}), or null. */
    PortGroup port;
    /** Takes the service's channels instead of callbacks ({@code handleLinks}), or null. */
    volatile io.mancom.core.spi.LinkHandler links;

    // Guarded by the runtime's lock.
    Mode mode = Mode.NONE;
    Listener listener;
    CompletableFuture<EndPoint> ready;
    ArrayBlockingQueue<BlockingAdapter> acceptQueue;
    /** Pollers watching for connections to accept (Poller ACCEPTABLE). */
    final ReadinessSignal acceptReadiness = new ReadinessSignal();

    Service(ServiceSettings settings) {
        this.settings = settings;
        this.framing = Framing.of(settings);
    }

    String name() {
        return settings.name();
    }

    @Override
    public List<Acceptor> acceptors() {
        return acceptors;
    }

    @Override
    public Receiver receiver() {
        return receiver;
    }

    /** The endpoint as bound, if binding has finished successfully. */
    EndPoint boundEndPoint() {
        return bound(ready);
    }

    /** What {@code ready} completed with, or null while it has not (or failed). */
    static EndPoint bound(CompletableFuture<EndPoint> ready) {
        return ready != null && ready.isDone() && !ready.isCompletedExceptionally() ? ready.join() : null;
    }
}
