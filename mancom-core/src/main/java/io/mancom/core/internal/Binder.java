package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.link.ReliableLinkSink;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.spi.Transport;
import io.mancom.core.spi.Settings;
import io.mancom.core.spi.StatusReporting;
import io.mancom.spi.Listener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Starts and stops serving: a service's listener (or its shared link's) is started by the first
 * registration that needs it and closed when the last one goes, and readiness is reported from the
 * listeners' futures.
 *
 * <p>Threading: {@link #bind}, {@link #unbindIfUnused} and {@link #closeListeners} run under the
 * runtime's lock (the caller holds it); {@link #awaitReady} and {@link #bound} take it themselves
 * and wait outside it. Listener callbacks only log.
 *
 * <p>Errors: a listener that cannot start leaves a failed {@code ready} future on the service (and
 * a warning in the log); the next registration tries again.
 */
final class Binder {
    private static final Logger log = LoggerFactory.getLogger(Binder.class);

    private final Object lock;
    private final TransportRegistry transports;
    private final Function<Service, ChannelSink> serviceSink;
    private final Function<LinkGroup, ChannelSink> linkSink;
    private final Function<PortGroup, ChannelSink> portSink;
    /** Told of each service a listener failed to serve (monitoring: its errors count it). */
    private final BiConsumer<String, Throwable> failed;

    /**
     * @param lock        the runtime's lock, which guards the services' serving state
     * @param serviceSink where the links a service's own listener opens go
     * @param linkSink    where the links of a shared link's listener go
     * @param failed      told of each service whose listener failed to start (name, failure); any thread
     */
    Binder(Object lock, TransportRegistry transports, Function<Service, ChannelSink> serviceSink,
           Function<LinkGroup, ChannelSink> linkSink, Function<PortGroup, ChannelSink> portSink,
           BiConsumer<String, Throwable> failed) {
        this.lock = lock;
        this.transports = transports;
        this.serviceSink = serviceSink;
        this.linkSink = linkSink;
        this.portSink = portSink;
        this.failed = failed;
    }

    /** Starts serving the service's endpoint if it is not served yet. Under the lock. */
    void bind(Service s) {
        assert Thread.holdsLock(lock);
        if (!Settings.of(s.settings).getBoolean("listen")) {
            // Nothing to bind: the service takes streams over links this runtime dials.
            s.ready = CompletableFuture.completedFuture(s.settings.endpoint());
            return;
        }
        if (s.group != null) {
            s.ready = bindGroup(s.group);
            return;
        }
        if (s.port != null) {
            s.ready = bindPort(s.port);
            return;
        }
        if (s.ready != null && !s.ready.isCompletedExceptionally()) {
            return; // serving, or on its way
        }
        Serving serving = listen(s.listener, s.settings, s.settings.endpoint(), s.name(), List.of(s.name()),
                "service '" + s.name() + "'", serviceSink.apply(s));
        s.listener = serving.listener();
        s.ready = serving.ready();
    }

    /** A listener (null when none could start) and when it serves. */
    private record Serving(Listener listener, CompletableFuture<EndPoint> ready) {
    }

    /**
     * Starts serving {@code endpoint}, closing {@code failed} first (a listener that failed before,
     * port in use say, is tried again for a new registration). Under the lock.
     */
    private Serving listen(Listener before, ServiceSettings owner, EndPoint endpoint, String service, List<String> served,
                           String what, ChannelSink sink) {
        if (before != null) {
            before.close();
        }
        try {
            // A service's own endpoint may be the daemon's (scope = system); a shared link is this runtime's.
            Transport transport = owner != null ? transports.forService(owner) : transports.forEndPoint(endpoint, service);
            // link = reliable: the session layer goes between the transport and the sink.
            Listener listener = transport.listen(endpoint, ReliableLinkSink.wrap(sink, false, null, null));
            CompletableFuture<EndPoint> ready = listener.ready().toCompletableFuture();
            ready.whenComplete((bound, err) -> {
                if (err != null) {
                    log.warn("{} is not serving: {}", what, Futures.unwrap(err).getMessage());
                    served.forEach(name -> failed.accept(name, Futures.unwrap(err)));
                } else {
                    log.debug("{} serving on {}", what, bound);
                }
            });
            return new Serving(listener, ready);
        } catch (ManComException e) {
            log.warn("{} cannot be served: {}", what, e.getMessage());
            served.forEach(name -> failed.accept(name, e));
            return new Serving(null, CompletableFuture.failedFuture(e));
        }
    }

    /**
     * Stops serving {@code s} if nothing uses it any more (no acceptor, no receiver, not served
     * with the blocking API), closing its connections; a shared link stops when no member uses it.
     * Under the lock.
     */
    void unbindIfUnused(Service s) {
        assert Thread.holdsLock(lock);
        if (!s.acceptors.isEmpty() || s.receiver != null || s.links != null || s.mode == Service.Mode.BLOCKING) {
            return;
        }
        s.mode = Service.Mode.NONE;
        s.ready = null;
        if (s.group != null) {
            for (ChannelConnection c : s.connections) {
                c.close();
            }
            if (!s.group.inUse()) {
                unbindGroup(s.group);
            }
            return;
        }
        if (s.port != null) {
            for (ChannelConnection c : s.connections) {
                c.close();
            }
            if (!s.port.inUse() && s.port.listener != null) {
                s.port.listener.close();
                s.port.listener = null;
                s.port.ready = null;
            }
            return;
        }
        if (s.listener != null) {
            s.listener.close();
            s.listener = null;
        }
        for (ChannelConnection c : s.connections) {
            c.close();
        }
    }

    /** Serves a shared link for every member of {@code g}. Under the lock. */
    private CompletableFuture<EndPoint> bindGroup(LinkGroup g) {
        if (g.ready != null && !g.ready.isCompletedExceptionally()) {
            return g.ready;
        }
        Serving serving = listen(g.listener, null, g.endpoint, g.first.name(), List.copyOf(g.members.keySet()),
                "shared link " + g.endpoint + " (" + g.names() + ")", linkSink.apply(g));
        g.listener = serving.listener();
        g.ready = serving.ready();
        return g.ready;
    }

    /** Serves a port shared by match for every member of {@code p}. Under the lock. */
    private CompletableFuture<EndPoint> bindPort(PortGroup p) {
        if (p.ready != null && !p.ready.isCompletedExceptionally()) {
            return p.ready;
        }
        Service first = p.members.get(0);
        Serving serving = listen(p.listener, first.settings, p.endpoint(), first.name(), p.plan.members(),
                "shared port " + p.endpoint() + " (" + p.names() + ")", portSink.apply(p));
        p.listener = serving.listener();
        p.ready = serving.ready();
        return p.ready;
    }

    private void unbindGroup(LinkGroup g) {
        if (g.listener != null) {
            g.listener.close();
            g.listener = null;
        }
        g.ready = null;
        for (MuxSessionHandler session : g.served) {
            session.closeGracefully();
        }
    }

    /** Closes every listener of {@code services} and their groups (shutdown). Under the lock. */
    void closeListeners(Collection<Service> services) {
        assert Thread.holdsLock(lock);
        for (Service s : services) {
            if (s.group != null && s.group.listener != null) {
                s.group.listener.close();
                s.group.listener = null;
            }
            if (s.port != null && s.port.listener != null) {
                s.port.listener.close();
                s.port.listener = null;
            }
            if (s.listener != null) {
                s.listener.close();
                s.listener = null;
            }
        }
    }

    // ---- readiness ----

    /**
     * Waits until every service that is being served serves, or {@code timeout} passes.
     *
     * @throws ManComException naming each service that is not ready and why; its reason is the
     *                         first failure's, or NOT_READY when all are still on their way
     */
    void awaitReady(Collection<Service> services, Duration timeout) throws ManComException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<Service, CompletableFuture<EndPoint>> waiting = new LinkedHashMap<>();
        synchronized (lock) {
            for (Service s : services) {
                if (s.ready != null) {
                    waiting.put(s, s.ready);
                }
            }
        }
        List<String> problems = new ArrayList<>();
        ManComException first = null;
        boolean timedOut = false;
        for (Map.Entry<Service, CompletableFuture<EndPoint>> e : waiting.entrySet()) {
            Service s = e.getKey();
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                e.getValue().get(left, TimeUnit.NANOSECONDS);
            } catch (ExecutionException ex) {
                ManComException m = Futures.asManCom(ex.getCause());
                first = first == null ? m : first;
                problems.add(s.name() + " (" + s.settings.endpoint() + "): " + m.getMessage());
            } catch (TimeoutException ex) {
                timedOut = true;
                problems.add(s.name() + " (" + s.settings.endpoint() + "): not serving yet" + listenerStatus(s));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new ManComException(ManComException.Reason.IO, "awaitReady interrupted", ex);
            }
        }
        if (!problems.isEmpty()) {
            // Say how long it really waited: a failure ends the wait early, only a timeout lasts the timeout.
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - (deadline - timeout.toNanos()));
            String message = problems.size() + " of " + waiting.size() + " service(s) not ready after "
                    + (timedOut ? timeout : waitedMillis + " ms (of " + timeout + " allowed)") + ":\n  "
                    + String.join("\n  ", problems);
            throw new ManComException(first != null ? first.reason() : ManComException.Reason.NOT_READY, message, first);
        }
    }

    /** Why {@code s}'s listener does not serve yet, when it can say (device listeners retrying). */
    static String listenerStatus(Service s) {
        Listener l = s.group != null ? s.group.listener : s.port != null ? s.port.listener : s.listener;
        return l instanceof StatusReporting r && r.status() != null ? " (" + r.status() + ")" : "";
    }

    /** Where each service that serves is bound, by name. */
    static Map<String, EndPoint> bound(Collection<Service> services) {
        Map<String, EndPoint> m = new TreeMap<>();
        for (Service s : services) {
            EndPoint b = s.boundEndPoint();
            if (b != null) {
                m.put(s.name(), b);
            }
        }
        return m;
    }
}
