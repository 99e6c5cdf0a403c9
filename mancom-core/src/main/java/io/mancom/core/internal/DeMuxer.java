package io.mancom.core.internal;

import io.mancom.AcceptCallback;
import io.mancom.ConfigException;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.Registration;
import io.mancom.core.internal.config.Framing;
import io.mancom.core.internal.config.ServicePlan;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxStreamAcceptor;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.mancom.core.internal.daemon.SystemTransport;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.Refusal;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps the registrations of each service and routes every link event to the right service.
 *
 * <p>Serving starts and stops with the registrations ({@link Binder}); clients dial through the
 * {@link Dialler}. Every link a transport opens comes back through a {@link ChannelSink}; the
 * DeMuxer wraps it in a {@link ChannelConnection} whose {@link Inbound} is the service's callbacks
 * or the blocking adapter, and routes a stream the peer opens on a shared link by its preamble.
 *
 * <p>Thread-safe: state changes are made under one lock shared with the binder and the dialler;
 * event routing is lock-free. The constructor checks the cross-service rules again
 * ({@link ServicePlan}) and throws their {@link ConfigException} for settings that were not loaded
 * through the loader.
 */
final class DeMuxer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeMuxer.class);

    private final Object lock = new Object();
    private final Map<String, Service> services;
    private final AtomicLong ids = new AtomicLong();
    private final Set<ChannelConnection> clients = ConcurrentHashMap.newKeySet();
    private final Binder binder;
    private final Dialler dialler;
    private boolean closed;
    /** Monitoring: a mux session on {@code link} of {@code g} counts as a channel of its own. */
    private void trackSession(LinkGroup g, Channel link) {
        monitor.trackSession(link, ids.incrementAndGet(), g.names(), g.endpoint);
    }

    /** Counts every channel (monitoring seam); set by the runtime before any service is used. */
    io.mancom.core.internal.monitor.Monitor monitor;
    /** TLS on the links of the services that configure it; set by the runtime before any service is used. */
    io.mancom.core.internal.tls.TlsLayer tls = io.mancom.core.internal.tls.TlsLayer.NONE;

    DeMuxer(RuntimeSettings settings, TransportRegistry transports) {
        Map<String, Service> m = new TreeMap<>();
        settings.services().forEach((name, s) -> m.put(name, new Service(s)));
        this.services = Collections.unmodifiableMap(m);
        ServicePlan plan = ServicePlan.of(settings);
        for (ServicePlan.SharedLink link : plan.sharedLinks()) {
            LinkGroup g = new LinkGroup(link.endpoint(), link.members().stream().map(m::get).toList());
            g.members.values().forEach(member -> member.group = g);
        }
        for (var shared : plan.sharedPorts()) {
            PortGroup p = new PortGroup(shared, shared.members().stream().map(m::get).toList());
            p.members.forEach(member -> member.port = p);
        }
        this.binder = new Binder(lock, transports, ServiceSink::new, g -> tls.server(new MuxLinkSink(lock, g, false, null,
                router(g), link -> trackSession(g, link))),
                p -> new PortSink(p, (s, ch) -> new ServiceSink(s).channelOpened(ch), () -> monitor),
                (service, failure) -> monitor.error(service, null, failure));
        this.dialler = new Dialler(lock, transports, new Dialler.Links() {
            @Override
            public boolean closed() {
                return closed;
            }

            @Override
            public void openClient(Service s, Channel ch, Inbound inbound) {
                open(s, ch, inbound, clients);
            }

            @Override
            public ChannelSink withTls(ChannelSink sink, CompletableFuture<?> result) {
                return tls.client(sink, result::completeExceptionally);
            }

            @Override
            public ChannelSink dialedLinkSink(LinkGroup g, CompletableFuture<MuxSessionHandler> session) {
                return new MuxLinkSink(lock, g, true, session, router(g), link -> trackSession(g, link));
            }
        });
    }

    Set<String> serviceNames() {
        return services.keySet();
    }

    Service service(String name) {
        if (name == null) {
            throw new NullPointerException("service");
        }
        Service s = services.get(name);
        if (s == null) {
            throw new ConfigException(null, -1, "mancom.services." + name,
                    "unknown service '" + name + "': it is not configured (known services: "
                            + String.join(", ", services.keySet()) + "). Add it to a config file, for example "
                            + "/etc/mancom/mancom.conf: mancom.services." + name + " { endpoint = \"tcp://127.0.0.1:7000\" }");
        }
        return s;
    }

    // ---- registration ----

    Registration registerAcceptor(String name, AcceptCallback callback, Executor executor) {
        Service s = service(name);
        Callbacks.Acceptor a = new Callbacks.Acceptor(Objects.requireNonNull(callback, "callback"), executor);
        synchronized (lock) {
            checkOpen();
            useMode(s, Service.Mode.CALLBACK);
            s.acceptors.add(a);
            binder.bind(s);
        }
        return new ServiceRegistration(name, () -> {
            synchronized (lock) {
                if (s.acceptors.remove(a)) {
                    binder.unbindIfUnused(s);
                }
            }
        });
    }

    Registration registerDataReceiver(String name, DataReceiver receiver, Executor executor) {
        Service s = service(name);
        Callbacks.Receiver r = new Callbacks.Receiver(Objects.requireNonNull(receiver, "receiver"), executor);
        synchronized (lock) {
            checkOpen();
            useMode(s, Service.Mode.CALLBACK);
            if (s.receiver != null) {
                throw new IllegalStateException("service '" + name + "' already has a data receiver; close its Registration first");
            }
            s.receiver = r;
            binder.bind(s);
        }
        // Connections that waited for a receiver get their held data now.
        for (ChannelConnection c : s.connections) {
            if (c.handler.inbound() instanceof CallbackInbound in) {
                c.onLoop(() -> in.receiverArrived(c));
            }
        }
        return new ServiceRegistration(name, () -> {
            synchronized (lock) {
                if (s.receiver == r) {
                    s.receiver = null;
                    binder.unbindIfUnused(s);
                }
            }
        });
    }

    /**
     * Hands every link of {@code name} to {@code handler} instead of the callbacks (a relay, a
     * tunnel, a proxy; see {@link io.mancom.core.spi.LinkHandler}), and serves the service.
     */
    Registration handleLinks(String name, io.mancom.core.spi.LinkHandler handler) {
        Service s = service(name);
        Objects.requireNonNull(handler, "handler");
        synchronized (lock) {
            checkOpen();
            if (s.links != null || s.receiver != null || !s.acceptors.isEmpty()) {
                throw new IllegalStateException("service '" + name + "' is served already; close its Registration first");
            }
            useMode(s, Service.Mode.CALLBACK);
            s.links = handler;
            binder.bind(s);
        }
        return new ServiceRegistration(name, () -> {
            synchronized (lock) {
                if (s.links == handler) {
                    s.links = null;
                    binder.unbindIfUnused(s);
                }
            }
        });
    }

    private void useMode(Service s, Service.Mode mode) {
        if (s.mode != Service.Mode.NONE && s.mode != mode) {
            throw new IllegalStateException("service '" + s.name() + "' is served with "
                    + (s.mode == Service.Mode.BLOCKING ? "the blocking API (accept)" : "callbacks (registerAcceptor/registerDataReceiver)")
                    + " already; a service is served in one style only");
        }
        s.mode = mode;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this ManCom is closed");
        }
    }

    // ---- blocking accept ----

    EndPoint listen(String name, Duration timeout) throws ManComException {
        Service s = service(name);
        CompletableFuture<EndPoint> ready = bindBlocking(s);
        try {
            return ready.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw Futures.asManCom(e.getCause());
        } catch (TimeoutException e) {
            throw new ManComException(ManComException.Reason.TIMEOUT, "service '" + name + "' (" + s.settings.endpoint()
                    + ") is not listening after " + timeout + Binder.listenerStatus(s));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ManComException(ManComException.Reason.IO, "listen interrupted", e);
        }
    }

    private CompletableFuture<EndPoint> bindBlocking(Service s) {
        synchronized (lock) {
            checkOpen();
            useMode(s, Service.Mode.BLOCKING);
            if (s.acceptQueue == null) {
                s.acceptQueue = new ArrayBlockingQueue<>(s.settings.blocking().acceptBacklog());
            }
            binder.bind(s);
            return s.ready;
        }
    }

    /** The service bound for the blocking API without waiting (a poller watches its accept queue). */
    Service blockingService(String name) throws ManComException {
        Service s = service(name);
        CompletableFuture<EndPoint> ready = bindBlocking(s);
        if (ready.isCompletedExceptionally()) {
            throw Futures.asManCom(ready);
        }
        return s;
    }

    BlockingAdapter accept(String name, Duration timeout) throws ManComException {
        Service s = service(name);
        CompletableFuture<EndPoint> ready = bindBlocking(s);
        ArrayBlockingQueue<BlockingAdapter> queue;
        synchronized (lock) {
            queue = s.acceptQueue;
        }
        if (ready.isCompletedExceptionally()) {
            throw Futures.asManCom(ready);
        }
        try {
            BlockingAdapter a = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (a == STOPPED) {
                queue.offer(STOPPED); // for the next waiter
                throw new ManComException(ManComException.Reason.CLOSED, "service '" + name + "' stopped listening");
            }
            if (a == null) {
                if (ready.isCompletedExceptionally()) {
                    throw Futures.asManCom(ready);
                }
                throw new ManComException(ManComException.Reason.TIMEOUT,
                        "no connection to service '" + name + "' within " + timeout);
            }
            return a;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ManComException(ManComException.Reason.IO, "accept interrupted", e);
        }
    }

    /** Put in a stopped service's accept queue: every accept waiting on it ends. */
    private static final BlockingAdapter STOPPED = new BlockingAdapter(0, a -> { });

    /**
     * Ends the blocking API on {@code name}: the service stops listening and closes its
     * connections (accepted or not, as unregistering closes a callback service's), accepts waiting
     * on it end with CLOSED, and the service may be served again in either style. Nothing happens
     * if it is not served with the blocking API. For the C API's mancom_close on a listener.
     */
    void stopListening(String name) {
        Service s = service(name);
        ArrayBlockingQueue<BlockingAdapter> queue;
        synchronized (lock) {
            if (s.mode != Service.Mode.BLOCKING) {
                return;
            }
            s.mode = Service.Mode.NONE;
            queue = s.acceptQueue;
            s.acceptQueue = null;
            binder.unbindIfUnused(s);
        }
        if (queue != null) {
            do {
                for (BlockingAdapter a; (a = queue.poll()) != null; ) {
                    a.close();
                }
            } while (!queue.offer(STOPPED)); // room, unless a late arrival took it: drain again
        }
        s.acceptReadiness.fire();
    }

    // ---- client side ----

    CompletableFuture<Connection> connectAsync(String name, DataReceiver receiver) {
        Service s = service(name);
        Objects.requireNonNull(receiver, "receiver");
        return dialler.connectAsync(s, receiver);
    }

    /** A stream of {@code service} to the peer at the other end of {@code via}'s link. */
    CompletableFuture<Connection> connectAsync(String name, DataReceiver receiver, Connection via) {
        return dialler.connectAsync(service(name), receiver, via);
    }

    /** The mux session of the shared link of {@code name} (mux on), dialled when there is none. */
    CompletableFuture<MuxSessionHandler> uplink(String name) {
        Service s = service(name);
        if (s.group == null) {
            return CompletableFuture.failedFuture(new ManComException(ManComException.Reason.UNREACHABLE,
                    "service '" + name + "' has mux = off: it has no shared link to open streams on"));
        }
        return dialler.session(s, s.settings.connectTimeout());
    }

    BlockingAdapter connect(String name, Duration timeout) throws ManComException {
        Service s = service(name);
        CompletableFuture<BlockingAdapter> result = dialler.connectBlocking(s, timeout);
        try {
            // The transport enforces the timeout; the margin covers handing the link over.
            return result.get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw Futures.asManCom(e.getCause());
        } catch (TimeoutException e) {
            result.thenAccept(BlockingAdapter::close);
            throw new ManComException(ManComException.Reason.TIMEOUT,
                    "connecting to service '" + name + "' did not finish within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ManComException(ManComException.Reason.IO, "connect interrupted", e);
        }
    }

    // ---- readiness ----

    void awaitReady(Duration timeout) throws ManComException {
        binder.awaitReady(services.values(), timeout);
    }

    Map<String, EndPoint> bound() {
        return Binder.bound(services.values());
    }

    // ---- links ----

    private ChannelConnection open(Service s, Channel ch, Inbound inbound, Set<ChannelConnection> registry) {
        assert ch.eventLoop().inEventLoop();
        ChannelConnection c = new ChannelConnection(ids.incrementAndGet(), s.name(), ch,
                ChannelEndPoints.local(ch, s.settings.endpoint()),
                ChannelEndPoints.remote(ch, s.settings.endpoint()),
                s.settings, inbound, registry == s.connections && inbound instanceof CallbackInbound,
                s.framing.kind() == Framing.Kind.LENGTH_FIELD ? s.framing.lengthField() : 0);
        registry.add(c);
        monitor.track(c, registry == s.connections);
        ch.closeFuture().addListener(f -> registry.remove(c));
        // Framing goes in front of the connection handler, so every transport (and mux stream)
        // hands whole messages to it and writes pass through the framing's encoder.
        FramingHandlers.addTo(ch.pipeline(), s.framing, s.name());
        ch.pipeline().addLast("mancom-connection", c.handler);
        return c;
    }

    /** Where the links a service's own listener opens go. */
    private final class ServiceSink implements ChannelSink, SystemTransport.ServedStyle {
        private final Service s;

        ServiceSink(Service s) {
            this.s = s;
        }

        @Override
        public String style() {
            return s.mode == Service.Mode.BLOCKING ? "blocking" : "callbacks";
        }

        @Override
        public String service() {
            return s.name();
        }

        @Override
        public ServiceSettings settings() {
            return s.settings;
        }

        @Override
        public void channelOpened(Channel ch) {
            // TLS (when configured) goes in front; the connection opens, or the service's link
            // handler takes the channel, once its handshake succeeded.
            io.mancom.core.spi.LinkHandler links = s.links;
            tls.serve(s.settings, ch, () -> serve(s, links, ch));
        }

        @Override
        public void refused(Refusal why) {
            monitor.refused(s.name(), why);
        }
    }

    /** Where the events of a link or stream that a peer opened to {@code s} go. */
    private static Inbound serverInbound(Service s) {
        if (s.mode == Service.Mode.BLOCKING) {
            return new BlockingAdapter(s.settings.blocking().readBuffer(), a -> {
                ArrayBlockingQueue<BlockingAdapter> q = s.acceptQueue;
                if (q == null || !q.offer(a)) {
                    log.warn("service '{}': accept backlog full ({} waiting, blocking.accept-backlog); closing {}",
                            s.name(), q == null ? 0 : q.size(), a.connection());
                    a.close();
                } else {
                    s.acceptReadiness.fire();
                }
            });
        }
        return new CallbackInbound(s, s.settings.blocking().readBuffer());
    }

    /** Routes the streams a peer opens on a link of {@code g}, and counts those turned away. */
    private MuxStreamAcceptor router(LinkGroup g) {
        return new MuxStreamAcceptor() {
            @Override
            public boolean accept(MuxStreamChannel stream, String service) {
                return acceptStream(g, stream, service);
            }

            @Override
            public void refused(Refusal why) {
                monitor.refused(g.first.name(), why);
            }
        };
    }

    /** A stream the peer opened: route it by its preamble to a member served here, or refuse it. */
    private boolean acceptStream(LinkGroup g, MuxStreamChannel stream, String name) {
        Service s = name == null ? g.first : g.members.get(name);
        if (s == null || s.mode == Service.Mode.NONE) {
            log.debug("refusing a stream to '{}' on {}: {}", name, g.endpoint,
                    s == null ? "no such service on this link (" + g.names() + ")" : "not served here");
            return false;
        }
        io.mancom.core.spi.LinkHandler links = s.links;
        stream.pipeline().addLast(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                serve(s, links, ch); // a link handler: handler = forward, a tunnel's far end
            }
        });
        return true;
    }

    /**
     * A link or stream a peer opened to {@code s}: a connection of the service's, or, when the
     * service has a link handler (registered before the link came), the handler's channel.
     */
    private void serve(Service s, io.mancom.core.spi.LinkHandler links, Channel ch) {
        if (links == null) {
            open(s, ch, serverInbound(s), s.connections);
            return;
        }
        ch.config().setAutoRead(false);
        try {
            links.channelOpened(ch);
        } catch (RuntimeException e) {
            log.warn("service '{}': its link handler failed on {}: {}", s.name(), ch, e.toString());
            ch.close();
        }
    }

    // ---- shutdown ----

    @Override
    public void close() {
        List<ChannelConnection> all = new ArrayList<>(clients);
        Set<Channel> links = new HashSet<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            binder.closeListeners(services.values());
            for (Service s : services.values()) {
                if (s.group != null) {
                    LinkGroup g = s.group;
                    g.served.forEach(mux -> links.add(mux.link()));
                    if (g.dialed != null && g.dialed.isDone() && !g.dialed.isCompletedExceptionally()) {
                        links.add(g.dialed.join().link());
                    }
                }
                all.addAll(s.connections);
                if (s.acceptQueue != null) {
                    s.acceptQueue.forEach(BlockingAdapter::close);
                }
            }
        }
        for (ChannelConnection c : all) {
            c.channel().close();
        }
        // Closing a mux link sends CloseMux; its streams then end with the session.
        for (Channel link : links) {
            link.close();
        }
        for (ChannelConnection c : all) {
            c.channel().closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        for (Channel link : links) {
            link.closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
    }

    private static final class ServiceRegistration implements Registration {
        private final String service;
        private final Runnable remove;
        private final AtomicBoolean closed = new AtomicBoolean();

        ServiceRegistration(String service, Runnable remove) {
            this.service = service;
            this.remove = remove;
        }

        @Override
        public String service() {
            return service;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                remove.run();
            }
        }
    }
}
