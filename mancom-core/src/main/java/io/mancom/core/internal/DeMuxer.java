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
import io.mancom.spi.Transport;
import io.netty.channel.Channel;
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
        if (s.ready != null && !s.ready.isCompletedExceptionally()) {
            return; // serving, or on its way
        }
        if (s.listener != null) {
            // It failed before (port in use, say): try again for the new registration.
            s.listener.close();
            s.listener = null;
        }
        EndPoint endpoint = s.settings.endpoint();
        try {
            Transport t = transports.forEndPoint(endpoint, s.name());
            s.listener = t.listen(endpoint, new ServiceSink(s));
            s.ready = s.listener.ready().toCompletableFuture();
            s.ready.whenComplete((bound, err) -> {
                if (err != null) {
                    log.warn("service '{}' is not serving: {}", s.name(), unwrap(err).getMessage());
                } else {
                    log.debug("service '{}' serving on {}", s.name(), bound);
                }
            });
        } catch (ManComException e) {
            s.ready = CompletableFuture.failedFuture(e);
            log.warn("service '{}' cannot be served: {}", s.name(), e.getMessage());
        }
    }

    private void unbindIfUnused(Service s) {
        if (!s.acceptors.isEmpty() || s.receiver != null || s.mode == Service.Mode.BLOCKING) {
            return;
        }
        s.mode = Service.Mode.NONE;
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
        Callbacks.Acceptor completer = new Callbacks.Acceptor(result::complete, null);
        Callbacks callbacks = new Callbacks() {
            @Override
            public List<Acceptor> acceptors() {
                return List.of(completer);
            }

            @Override
            public Receiver receiver() {
                return new Receiver(receiver, null);
            }
        };
        dial(s, s.settings.connectTimeout(),
                ch -> new CallbackInbound(callbacks, s.settings.blocking().readBuffer()), result);
        return result;
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
        EndPoint target = s.settings.endpoint();
        EndPoint bound = s.boundEndPoint();
        if (bound != null) {
            target = dialable(bound);
        } else if (target.address() instanceof TcpAddress tcp && tcp.port() == 0) {
            result.completeExceptionally(new ManComException(ManComException.Reason.UNREACHABLE,
                    "cannot connect to service '" + s.name() + "': its endpoint " + target + " has port 0 (any free port), "
                            + "which only this runtime can resolve, and this runtime does not serve it yet; serve it here "
                            + "first (awaitReady), or give mancom.services." + s.name() + ".endpoint a fixed port"));
            return;
        }
        try {
            Transport t = transports.forEndPoint(target, s.name());
            ClientSink sink = new ClientSink(s, inbound, result);
            t.connect(target, sink, timeout).whenComplete((v, err) -> {
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
        return s.listener instanceof io.mancom.core.StatusReporting r && r.status() != null ? " (" + r.status() + ")" : "";
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
                s.settings, inbound);
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

    private final class ServiceSink implements ChannelSink {
        private final Service s;

        ServiceSink(Service s) {
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

        @Override
        public void channelOpened(Channel ch) {
            Inbound inbound;
            if (s.mode == Service.Mode.BLOCKING) {
                inbound = new BlockingAdapter(s.settings.blocking().readBuffer(), a -> {
                    ArrayBlockingQueue<BlockingAdapter> q = s.acceptQueue;
                    if (q == null || !q.offer(a)) {
                        log.warn("service '{}': accept backlog full ({} waiting, blocking.accept-backlog); closing {}",
                                s.name(), q == null ? 0 : q.size(), a.connection());
                        a.close();
                    }
                });
            } else {
                inbound = new CallbackInbound(s, s.settings.blocking().readBuffer());
            }
            open(s, ch, inbound, s.connections);
        }
    }

    private final class ClientSink implements ChannelSink {
        private final Service s;
        private final Function<Channel, Inbound> inbound;
        private final CompletableFuture<?> result;

        ClientSink(Service s, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
            this.s = s;
            this.inbound = inbound;
            this.result = result;
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
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            for (Service s : services.values()) {
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
        for (ChannelConnection c : all) {
            c.channel().closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
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
