package io.mancom.core.internal;

import io.mancom.AcceptCallback;
import io.mancom.ConfigException;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.Registration;
import io.mancom.TcpAddress;
import io.mancom.core.ChannelSink;
import io.mancom.core.config.RuntimeSettings;
import io.mancom.core.config.ServiceSettings;
import io.mancom.core.mux.MuxSessionHandler;
import io.mancom.core.mux.MuxSettings;
import io.mancom.core.mux.MuxStreamChannel;
import io.mancom.spi.Listener;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Binds what each service needs and routes every link event to the right service.
 *
 * <p>For a service it binds its endpoint (through the transport for the endpoint's scheme) when
 * the first callback or blocking accept asks for it, and unbinds it when the last registration
 * goes. Every link a transport opens comes back through a {@link ChannelSink}; the DeMuxer wraps
 * it in a {@link ChannelConnection} whose {@link Inbound} is the service's callbacks or the
 * blocking adapter. Thread-safe: state changes are made under this object's lock; event routing
 * is lock-free.
 */
final class DeMuxer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeMuxer.class);

    private final Map<String, Service> services;
    private final TransportRegistry transports;
    private final AtomicLong ids = new AtomicLong();
    private final Set<ChannelConnection> clients = ConcurrentHashMap.newKeySet();
    private boolean closed;

    DeMuxer(RuntimeSettings settings, TransportRegistry transports) {
        Map<String, Service> m = new TreeMap<>();
        settings.services().forEach((name, s) -> m.put(name, new Service(s)));
        this.services = Collections.unmodifiableMap(m);
        this.transports = transports;
        groupSharedLinks(m.values());
    }

    /**
     * Services with mux on and the same endpoint share one link. Two services on one fixed
     * endpoint without mux would fight over it, which is a configuration error said up front.
     */
    private static void groupSharedLinks(java.util.Collection<Service> all) {
        Map<String, List<Service>> byEndpoint = new TreeMap<>();
        for (Service s : all) {
            EndPoint e = s.settings.endpoint();
            boolean ephemeral = e.address() instanceof TcpAddress tcp && tcp.port() == 0;
            if (ephemeral && !MuxSettings.of(s.settings).enabled()) {
                continue; // every plain bind to port 0 gets a port of its own
            }
            byEndpoint.computeIfAbsent(e.toString(), k -> new ArrayList<>()).add(s);
        }
        for (Service s : all) {
            if (MuxSettings.of(s.settings).enabled() && s.group == null) {
                List<Service> sharing = byEndpoint.getOrDefault(s.settings.endpoint().toString(), List.of(s));
                LinkGroup g = new LinkGroup(s.settings.endpoint(), sharing.isEmpty() ? List.of(s) : sharing);
                for (Service member : g.members.values()) {
                    member.group = g;
                }
            }
        }
        for (List<Service> sharing : byEndpoint.values()) {
            if (sharing.size() < 2) {
                continue;
            }
            List<String> names = sharing.stream().map(Service::name).toList();
            for (Service s : sharing) {
                if (!MuxSettings.of(s.settings).enabled()) {
                    throw new ConfigException(null, -1, "mancom.services." + s.name() + ".mux",
                            "services " + String.join(", ", names) + " all use endpoint " + s.settings.endpoint()
                                    + ", but '" + s.name() + "' has mux off; set mux = on for each of them to share "
                                    + "one link, or give each its own endpoint");
                }
            }
            LinkGroup g = sharing.get(0).group;
            if (g.mux.routing() == MuxSettings.Routing.NONE) {
                throw new ConfigException(null, -1, "mancom.services." + g.first.name() + ".mux.routing",
                        "services " + String.join(", ", names) + " share endpoint " + g.endpoint
                                + " but routing = none carries a single service; use routing = service");
            }
        }
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
        Callbacks.Acceptor a = new Callbacks.Acceptor(java.util.Objects.requireNonNull(callback, "callback"), executor);
        synchronized (this) {
            checkOpen();
            useMode(s, Service.Mode.CALLBACK);
            s.acceptors.add(a);
            bind(s);
        }
        return new ServiceRegistration(name, () -> {
            synchronized (this) {
                if (s.acceptors.remove(a)) {
                    unbindIfUnused(s);
                }
            }
        });
    }

    Registration registerDataReceiver(String name, DataReceiver receiver, Executor executor) {
        Service s = service(name);
        Callbacks.Receiver r = new Callbacks.Receiver(java.util.Objects.requireNonNull(receiver, "receiver"), executor);
        synchronized (this) {
            checkOpen();
            useMode(s, Service.Mode.CALLBACK);
            if (s.receiver != null) {
                throw new IllegalStateException("service '" + name + "' already has a data receiver; close its Registration first");
            }
            s.receiver = r;
            bind(s);
        }
        // Connections that waited for a receiver get their held data now.
        for (ChannelConnection c : s.connections) {
            if (c.handler.inbound() instanceof CallbackInbound in) {
                c.onLoop(() -> in.receiverArrived(c));
            }
        }
        return new ServiceRegistration(name, () -> {
            synchronized (this) {
                if (s.receiver == r) {
                    s.receiver = null;
                    unbindIfUnused(s);
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

    /** Starts serving the service's endpoint if it is not served yet. Under the lock. */
    private void bind(Service s) {
        if (!io.mancom.core.config.Settings.of(s.settings).getBoolean("listen")) {
            // Nothing to bind: the service takes streams over links this runtime dials.
            s.ready = CompletableFuture.completedFuture(s.settings.endpoint());
            return;
        }
        if (s.group != null) {
            s.ready = bindGroup(s.group);
            return;
        }
        if (s.ready != null && !s.ready.isCompletedExceptionally()) {
            return; // serving, or on its way
        }
        Serving serving = listen(s.listener, s.settings.endpoint(), s.name(), "service '" + s.name() + "'", new ServiceSink(s));
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
    private Serving listen(Listener failed, EndPoint endpoint, String service, String what, ChannelSink sink) {
        if (failed != null) {
            failed.close();
        }
        try {
            Listener listener = transports.forEndPoint(endpoint, service).listen(endpoint, sink);
            CompletableFuture<EndPoint> ready = listener.ready().toCompletableFuture();
            ready.whenComplete((bound, err) -> {
                if (err != null) {
                    log.warn("{} is not serving: {}", what, unwrap(err).getMessage());
                } else {
                    log.debug("{} serving on {}", what, bound);
                }
            });
            return new Serving(listener, ready);
        } catch (ManComException e) {
            log.warn("{} cannot be served: {}", what, e.getMessage());
            return new Serving(null, CompletableFuture.failedFuture(e));
        }
    }

    private void unbindIfUnused(Service s) {
        if (!s.acceptors.isEmpty() || s.receiver != null || s.mode == Service.Mode.BLOCKING) {
            return;
        }
        s.mode = Service.Mode.NONE;
        if (s.group != null) {
            s.ready = null;
            for (ChannelConnection c : s.connections) {
                c.close();
            }
            if (!s.group.inUse()) {
                unbindGroup(s.group);
            }
            return;
        }
        if (s.listener != null) {
            s.listener.close();
            s.listener = null;
        }
        s.ready = null;
        for (ChannelConnection c : s.connections) {
            c.close();
        }
    }

    // ---- blocking accept ----

    EndPoint listen(String name, Duration timeout) throws ManComException {
        Service s = service(name);
        CompletableFuture<EndPoint> ready = bindBlocking(s);
        try {
            return ready.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw asManCom(e.getCause());
        } catch (TimeoutException e) {
            throw new ManComException(ManComException.Reason.TIMEOUT, "service '" + name + "' (" + s.settings.endpoint()
                    + ") is not listening after " + timeout + listenerStatus(s));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ManComException(ManComException.Reason.IO, "listen interrupted", e);
        }
    }

    private synchronized CompletableFuture<EndPoint> bindBlocking(Service s) {
        checkOpen();
        useMode(s, Service.Mode.BLOCKING);
        if (s.acceptQueue == null) {
            s.acceptQueue = new ArrayBlockingQueue<>(s.settings.blocking().acceptBacklog());
        }
        bind(s);
        return s.ready;
    }

    /** The service bound for the blocking API without waiting (a poller watches its accept queue). */
    Service blockingService(String name) throws ManComException {
        Service s = service(name);
        CompletableFuture<EndPoint> ready = bindBlocking(s);
        if (ready.isCompletedExceptionally()) {
            throw asManCom(ready);
        }
        return s;
    }

    BlockingAdapter accept(String name, Duration timeout) throws ManComException {
        Service s = service(name);
        CompletableFuture<EndPoint> ready = bindBlocking(s);
        ArrayBlockingQueue<BlockingAdapter> queue;
        synchronized (this) {
            queue = s.acceptQueue;
        }
        if (ready.isCompletedExceptionally()) {
            throw asManCom(ready);
        }
        try {
            BlockingAdapter a = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (a == null) {
                if (ready.isCompletedExceptionally()) {
                    throw asManCom(ready);
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

    // ---- client side ----

    CompletableFuture<Connection> connectAsync(String name, DataReceiver receiver) {
        Service s = service(name);
        java.util.Objects.requireNonNull(receiver, "receiver");
        CompletableFuture<Connection> result = new CompletableFuture<>();
        dial(s, s.settings.connectTimeout(),
                ch -> new CallbackInbound(clientCallbacks(receiver, result), s.settings.blocking().readBuffer()), result);
        return result;
    }

    /** A client's callbacks: its receiver, and an acceptor that completes the connect. */
    private static Callbacks clientCallbacks(DataReceiver receiver, CompletableFuture<Connection> result) {
        List<Callbacks.Acceptor> completer = List.of(new Callbacks.Acceptor(result::complete, null));
        Callbacks.Receiver r = new Callbacks.Receiver(receiver, null);
        return new Callbacks() {
            @Override
            public List<Acceptor> acceptors() {
                return completer;
            }

            @Override
            public Receiver receiver() {
                return r;
            }
        };
    }

    BlockingAdapter connect(String name, Duration timeout) throws ManComException {
        Service s = service(name);
        CompletableFuture<BlockingAdapter> result = new CompletableFuture<>();
        dial(s, timeout, ch -> new BlockingAdapter(s.settings.blocking().readBuffer(), result::complete), result);
        try {
            // The transport enforces the timeout; the margin covers handing the link over.
            return result.get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw asManCom(e.getCause());
        } catch (TimeoutException e) {
            result.thenAccept(BlockingAdapter::close);
            throw new ManComException(ManComException.Reason.TIMEOUT,
                    "connecting to service '" + name + "' did not finish within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ManComException(ManComException.Reason.IO, "connect interrupted", e);
        }
    }

    private void dial(Service s, Duration timeout, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
        synchronized (this) {
            if (closed) {
                result.completeExceptionally(new ManComException(ManComException.Reason.CLOSED, "this ManCom is closed"));
                return;
            }
        }
        if (s.group != null) {
            dialStream(s, timeout, inbound, result);
            return;
        }
        connectLink(s, s.settings.endpoint(), s.ready, new ClientSink(s, inbound, result), timeout, result);
    }

    /**
     * Dials {@code configured} (or, when this runtime serves it, where it is bound) and hands the
     * link to {@code sink}; a failure completes {@code result}.
     */
    private void connectLink(Service s, EndPoint configured, CompletableFuture<EndPoint> ready, ChannelSink sink,
                             Duration timeout, CompletableFuture<?> result) {
        EndPoint target = configured;
        EndPoint bound = Service.bound(ready);
        if (bound != null) {
            target = dialable(bound);
        } else if (target.address() instanceof TcpAddress tcp && tcp.port() == 0) {
            result.completeExceptionally(ephemeral(s, target));
            return;
        }
        try {
            transports.forEndPoint(target, s.name()).connect(target, sink, timeout).whenComplete((v, err) -> {
                if (err != null) {
                    result.completeExceptionally(unwrap(err));
                }
            });
        } catch (ManComException e) {
            result.completeExceptionally(e);
        }
    }

    /** A wildcard bind address is not something to dial: use loopback instead. */
    private static EndPoint dialable(EndPoint bound) {
        if (bound.address() instanceof TcpAddress tcp && (tcp.host().equals("0.0.0.0") || tcp.host().equals("::"))) {
            return EndPoint.tcp(tcp.host().equals("::") ? "::1" : "127.0.0.1", tcp.port());
        }
        return bound;
    }

    // ---- readiness ----

    void awaitReady(Duration timeout) throws ManComException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, CompletableFuture<EndPoint>> waiting = new LinkedHashMap<>();
        synchronized (this) {
            for (Service s : services.values()) {
                if (s.ready != null) {
                    waiting.put(s.name(), s.ready);
                }
            }
        }
        List<String> problems = new ArrayList<>();
        ManComException first = null;
        for (Map.Entry<String, CompletableFuture<EndPoint>> e : waiting.entrySet()) {
            Service s = services.get(e.getKey());
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                e.getValue().get(left, TimeUnit.NANOSECONDS);
            } catch (ExecutionException ex) {
                ManComException m = asManCom(ex.getCause());
                first = first == null ? m : first;
                problems.add(e.getKey() + " (" + s.settings.endpoint() + "): " + m.getMessage());
            } catch (TimeoutException ex) {
                problems.add(e.getKey() + " (" + s.settings.endpoint() + "): not serving yet" + listenerStatus(s));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new ManComException(ManComException.Reason.IO, "awaitReady interrupted", ex);
            }
        }
        if (!problems.isEmpty()) {
            String message = problems.size() + " of " + waiting.size() + " service(s) not ready after " + timeout + ":\n  "
                    + String.join("\n  ", problems);
            throw new ManComException(first != null ? first.reason() : ManComException.Reason.NOT_READY, message, first);
        }
    }

    private static String listenerStatus(Service s) {
        // Device listeners that keep retrying can say why they have not opened yet.
        io.mancom.spi.Listener l = s.group != null ? s.group.listener : s.listener;
        return l instanceof io.mancom.core.StatusReporting r && r.status() != null ? " (" + r.status() + ")" : "";
    }

    Map<String, EndPoint> bound() {
        Map<String, EndPoint> m = new TreeMap<>();
        for (Service s : services.values()) {
            EndPoint b = s.boundEndPoint();
            if (b != null) {
                m.put(s.name(), b);
            }
        }
        return m;
    }

    // ---- links ----

    private ChannelConnection open(Service s, Channel ch, Inbound inbound, Set<ChannelConnection> registry) {
        assert ch.eventLoop().inEventLoop();
        ChannelConnection c = new ChannelConnection(ids.incrementAndGet(), s.name(), ch,
                endpoint(ch, ch.localAddress(), ChannelSink.LOCAL_ENDPOINT, s.settings.endpoint()),
                endpoint(ch, ch.remoteAddress(), ChannelSink.REMOTE_ENDPOINT, s.settings.endpoint()),
                s.settings, inbound, registry == s.connections && inbound instanceof CallbackInbound);
        registry.add(c);
        ch.closeFuture().addListener(f -> registry.remove(c));
        ch.pipeline().addLast("mancom-connection", c.handler);
        return c;
    }

    private static EndPoint endpoint(Channel ch, SocketAddress address, io.netty.util.AttributeKey<EndPoint> key, EndPoint configured) {
        EndPoint set = ch.attr(key).get();
        if (set != null) {
            return set;
        }
        if (address instanceof InetSocketAddress isa) {
            String host = isa.getAddress() != null ? isa.getAddress().getHostAddress() : isa.getHostString();
            int zone = host.indexOf('%');
            return EndPoint.tcp(zone >= 0 ? host.substring(0, zone) : host, isa.getPort());
        }
        return configured;
    }

    /** A sink for the links of one service. */
    private abstract static class ServiceChannelSink implements ChannelSink {
        final Service s;

        ServiceChannelSink(Service s) {
            this.s = s;
        }

        @Override
        public String service() {
            return s.name();
        }

        @Override
        public ServiceSettings settings() {
            return s.settings;
        }
    }

    private final class ServiceSink extends ServiceChannelSink {
        ServiceSink(Service s) {
            super(s);
        }

        @Override
        public void channelOpened(Channel ch) {
            open(s, ch, serverInbound(s), s.connections);
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

    // ---- multiplexed links ----

    /** Serves a shared link for every member of {@code g}. Under the lock. */
    private CompletableFuture<EndPoint> bindGroup(LinkGroup g) {
        if (g.ready != null && !g.ready.isCompletedExceptionally()) {
            return g.ready;
        }
        Serving serving = listen(g.listener, g.endpoint, g.first.name(),
                "shared link " + g.endpoint + " (" + g.names() + ")", new MuxLinkSink(g, false, null));
        g.listener = serving.listener();
        g.ready = serving.ready();
        return g.ready;
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

    /** A stream the peer opened: route it by its preamble to a member served here, or refuse it. */
    private boolean acceptStream(LinkGroup g, MuxStreamChannel stream, String name) {
        Service s = name == null ? g.first : g.members.get(name);
        if (s == null || s.mode == Service.Mode.NONE) {
            log.debug("refusing a stream to '{}' on {}: {}", name, g.endpoint,
                    s == null ? "no such service on this link (" + g.names() + ")" : "not served here");
            return false;
        }
        stream.pipeline().addLast(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                open(s, ch, serverInbound(s), s.connections);
            }
        });
        return true;
    }

    /** Opens a stream of {@code s} on its group's link, dialling the link first if needed. */
    private void dialStream(Service s, Duration timeout, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
        LinkGroup g = s.group;
        CompletableFuture<MuxSessionHandler> session;
        synchronized (this) {
            MuxSessionHandler live = g.liveSession();
            if (live != null) {
                session = CompletableFuture.completedFuture(live);
            } else if (g.symmetric && g.listener != null) {
                // This runtime has the device open (or is reopening it): opening it a second time
                // would only fail as busy, so wait for the listener's next link instead.
                if (g.nextServed == null || g.nextServed.isDone()) {
                    g.nextServed = new CompletableFuture<>();
                }
                session = g.nextServed.copy().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .exceptionally(t -> {
                            throw new CompletionException(unwrap(t) instanceof TimeoutException
                                    ? new ManComException(ManComException.Reason.TIMEOUT, "service '" + s.name()
                                    + "': the shared link " + g.endpoint + " is not open after " + timeout
                                    + listenerStatus(s)) : unwrap(t));
                        });
            } else if (g.dialed != null && !g.dialed.isDone()) {
                session = g.dialed; // another connect is dialling the link already
            } else {
                session = new CompletableFuture<>();
                g.dialed = session;
                dialLink(g, s, timeout, session);
            }
        }
        session.whenComplete((mux, err) -> {
            if (err != null) {
                result.completeExceptionally(unwrap(err));
            } else {
                openStream(mux, s, inbound, result);
            }
        });
    }

    private void dialLink(LinkGroup g, Service s, Duration timeout, CompletableFuture<MuxSessionHandler> session) {
        connectLink(s, g.endpoint, g.ready, new MuxLinkSink(g, true, session), timeout, session);
    }

    private void openStream(MuxSessionHandler mux, Service s, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
        mux.openStream(s.name(), new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (result.isDone()) {
                    ch.close(); // the caller gave up waiting
                    return;
                }
                open(s, ch, inbound.apply(ch), clients);
            }
        }).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(asManCom(f.cause()));
            }
        });
    }

    /** A stream of {@code service} to the peer at the other end of {@code via}'s link. */
    CompletableFuture<Connection> connectAsync(String name, DataReceiver receiver, Connection via) {
        Service s = service(name);
        CompletableFuture<Connection> result = new CompletableFuture<>();
        if (!(via instanceof ChannelConnection c) || !(c.channel() instanceof MuxStreamChannel stream)) {
            throw new IllegalArgumentException("connection " + via + " is not a stream of a multiplexed link; "
                    + "streams can only be opened over links with mux on");
        }
        if (s.group == null || !s.group.members.containsKey(via.service())) {
            throw new IllegalArgumentException("service '" + name + "' does not share the link of " + via
                    + " (mux on, same endpoint)");
        }
        openStream(stream.session(), s, ch -> new CallbackInbound(clientCallbacks(receiver, result), s.settings.blocking().readBuffer()), result);
        return result;
    }

    private static ManComException ephemeral(Service s, EndPoint target) {
        return new ManComException(ManComException.Reason.UNREACHABLE,
                "cannot connect to service '" + s.name() + "': its endpoint " + target + " has port 0 (any free port), "
                        + "which only this runtime can resolve, and this runtime does not serve it yet; serve it here "
                        + "first (awaitReady), or give mancom.services." + s.name() + ".endpoint a fixed port");
    }

    /** Puts a mux session on each link of a group, and routes the streams the peer opens. */
    private final class MuxLinkSink implements ChannelSink {
        private final LinkGroup g;
        private final boolean dialed;
        private final CompletableFuture<MuxSessionHandler> session;

        MuxLinkSink(LinkGroup g, boolean dialed, CompletableFuture<MuxSessionHandler> session) {
            this.g = g;
            this.dialed = dialed;
            this.session = session;
        }

        @Override
        public String service() {
            return g.names();
        }

        @Override
        public ServiceSettings settings() {
            return g.linkSettings();
        }

        @Override
        public void channelOpened(Channel link) {
            MuxSessionHandler mux = MuxSessionHandler.install(link, g.mux, g.mux.roleFor(g.symmetric, dialed),
                    (stream, name) -> acceptStream(g, stream, name));
            // Transports hand links over with auto-read off; the session is in place now. The
            // session itself keeps reading bounded (stream windows, receive-buffer budget).
            link.config().setAutoRead(true);
            link.read();
            if (dialed) {
                mux.terminationFuture().addListener(f -> {
                    synchronized (DeMuxer.this) {
                        if (g.dialed == session) {
                            g.dialed = null; // the next connect dials a new link
                        }
                    }
                });
                session.complete(mux);
            } else {
                g.served.add(mux);
                mux.terminationFuture().addListener(f -> g.served.remove(mux));
                CompletableFuture<MuxSessionHandler> waiting;
                synchronized (DeMuxer.this) {
                    waiting = g.nextServed;
                    g.nextServed = null;
                }
                if (waiting != null) {
                    waiting.complete(mux);
                }
            }
        }
    }

    private final class ClientSink extends ServiceChannelSink {
        private final Function<Channel, Inbound> inbound;
        private final CompletableFuture<?> result;

        ClientSink(Service s, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
            super(s);
            this.inbound = inbound;
            this.result = result;
        }

        @Override
        public void channelOpened(Channel ch) {
            if (result.isDone()) {
                // The caller gave up (timeout) before the link came: do not leak it.
                ch.close();
                return;
            }
            open(s, ch, inbound.apply(ch), clients);
        }
    }

    // ---- shutdown ----

    @Override
    public void close() {
        List<ChannelConnection> all = new ArrayList<>(clients);
        Set<Channel> links = new java.util.HashSet<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (Service s : services.values()) {
                if (s.group != null) {
                    LinkGroup g = s.group;
                    if (g.listener != null) {
                        g.listener.close();
                        g.listener = null;
                    }
                    g.served.forEach(mux -> links.add(mux.link()));
                    if (g.dialed != null && g.dialed.isDone() && !g.dialed.isCompletedExceptionally()) {
                        links.add(g.dialed.join().link());
                    }
                }
                if (s.listener != null) {
                    s.listener.close();
                    s.listener = null;
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

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static ManComException asManCom(CompletableFuture<?> failed) {
        try {
            failed.join();
            throw new IllegalStateException("not failed");
        } catch (CompletionException e) {
            return asManCom(e.getCause());
        }
    }

    static ManComException asManCom(Throwable t) {
        t = unwrap(t);
        if (t instanceof ManComException m) {
            return m;
        }
        if (t instanceof ConfigException c) {
            return new ManComException(ManComException.Reason.CONFIG, c.getMessage(), c);
        }
        return new ManComException(ManComException.Reason.IO, String.valueOf(t.getMessage()), t);
    }

    private static final class ServiceRegistration implements Registration {
        private final String service;
        private final Runnable remove;
        private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

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
