package io.mancom.core.internal;

import io.mancom.AcceptCallback;
import io.mancom.BlockingConnection;
import io.mancom.Poller;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.EventListener;
import io.mancom.core.internal.config.MetricsSettings;
import io.mancom.core.internal.monitor.MetricsListener;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.ManComStatus;
import io.mancom.Registration;
import io.mancom.core.internal.config.ControlSettings;
import io.mancom.core.internal.monitor.ControlServer;
import io.mancom.core.internal.monitor.Monitor;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.spi.TransportContext;
import io.mancom.spi.TransportProvider;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@link ManCom} implementation: owns the event loops, the transports and the {@link DeMuxer},
 * and checks arguments; the DeMuxer does the work.
 */
public final class ManComRuntime implements ManCom, TransportContext {
    private final RuntimeSettings settings;
    private final EventLoops loops;
    private final TransportRegistry transports;
    private final DeMuxer demuxer;
    private final Monitor monitor;
    private final ControlServer control;
    private final MetricsListener metricsListener;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Starts a runtime with the transports found on the class path. */
    public ManComRuntime(RuntimeSettings settings, int ioThreads) {
        this(settings, ioThreads, null);
    }

    /** Starts a runtime with the given transports (tests), or those on the class path (null). */
    public ManComRuntime(RuntimeSettings settings, int ioThreads, List<TransportProvider> providers) {
        this(settings, ioThreads, providers, EventListener.NONE);
    }

    /** Starts a runtime that tells {@code events} of every channel's open, close and failure. */
    public ManComRuntime(RuntimeSettings settings, int ioThreads, List<TransportProvider> providers,
                         EventListener events) {
        this(settings, ioThreads, providers, events, null);
    }

    /** As above, with the application's TLS certificate selector (null for none). */
    public ManComRuntime(RuntimeSettings settings, int ioThreads, List<TransportProvider> providers,
                         EventListener events, io.mancom.CertificateSelector certificates) {
        this.settings = settings;
        this.transports = providers == null ? new TransportRegistry(this) : new TransportRegistry(this, providers);
        // Before the event loops: settings the DeMuxer rejects must leave no threads behind.
        this.demuxer = new DeMuxer(settings, transports);
        // Reads the TLS key pairs: also before the event loops. Both seams are used only later.
        demuxer.tls = new io.mancom.core.internal.tls.TlsLayer(settings.services(), certificates,
                this::runBlocking, this::countFailedHandshake);
        this.loops = new EventLoops(ioThreads > 0 ? ioThreads : settings.ioThreads());
        Map<String, EndPoint> endpoints = new TreeMap<>();
        settings.services().forEach((name, s) -> endpoints.put(name, s.endpoint()));
        this.monitor = new Monitor(endpoints, new ServiceStates(demuxer), events);
        demuxer.monitor = monitor;
        this.control = ControlServer.start(ControlSettings.of(settings), loops, monitor);
        this.metricsListener = MetricsListener.start(MetricsSettings.of(settings), loops, monitor);
    }

    private void runBlocking(Runnable task) {
        loops.blockingExecutor().execute(task);
    }

    private void countFailedHandshake(String service) {
        monitor.count(service, io.mancom.ManComException.Reason.PROTOCOL);
    }

    /** The effective configuration this runtime runs on. */
    public RuntimeSettings settings() {
        return settings;
    }

    /** The installed transport schemes. */
    public List<String> transportSchemes() {
        return transports.schemes();
    }

    @Override
    public <T> T unwrap(Class<T> type) {
        if (type.isInstance(loops)) {
            return type.cast(loops);
        }
        if (type.isInstance(settings)) {
            return type.cast(settings);
        }
        if (type.isInstance(this)) {
            return type.cast(this);
        }
        throw new IllegalArgumentException("the ManCom runtime offers no " + type.getName()
                + "; it offers " + NettyRuntime.class.getName() + " and " + RuntimeSettings.class.getName());
    }

    @Override
    public Registration registerAcceptor(String service, AcceptCallback callback) {
        return registerAcceptor(service, callback, null);
    }

    @Override
    public Registration registerAcceptor(String service, AcceptCallback callback, Executor executor) {
        return demuxer.registerAcceptor(service, callback, executor);
    }

    @Override
    public Registration registerDataReceiver(String service, DataReceiver receiver) {
        return registerDataReceiver(service, receiver, null);
    }

    @Override
    public Registration registerDataReceiver(String service, DataReceiver receiver, Executor executor) {
        return demuxer.registerDataReceiver(service, receiver, executor);
    }

    @Override
    public CompletableFuture<Connection> connectAsync(String service, DataReceiver receiver) {
        return demuxer.connectAsync(service, receiver);
    }

    @Override
    public CompletableFuture<Connection> connectAsync(String service, DataReceiver receiver, Connection via) {
        Objects.requireNonNull(receiver, "receiver");
        Objects.requireNonNull(via, "via");
        return demuxer.connectAsync(service, receiver, via);
    }

    @Override
    public BlockingConnection accept(String service, Duration timeout) throws IOException {
        Objects.requireNonNull(timeout, "timeout");
        return demuxer.accept(service, timeout);
    }

    @Override
    public EndPoint listen(String service, Duration timeout) throws IOException {
        Objects.requireNonNull(timeout, "timeout");
        return demuxer.listen(service, timeout);
    }

    @Override
    public BlockingConnection connect(String service) throws IOException {
        return connect(service, demuxer.service(service).settings.connectTimeout());
    }

    @Override
    public BlockingConnection connect(String service, Duration timeout) throws IOException {
        Objects.requireNonNull(timeout, "timeout");
        return demuxer.connect(service, timeout);
    }

    /**
     * Hands every link of {@code service} to {@code handler} instead of callbacks, and serves the
     * service ({@link io.mancom.core.spi.LinkHandler} has the contract). Internal: for
     * {@code mancom serve}'s built-in handlers (forward) and the runtime's own tunnels and proxies.
     *
     * @throws IllegalStateException if the service is served already
     */
    public Registration handleLinks(String service, io.mancom.core.spi.LinkHandler handler) {
        return demuxer.handleLinks(service, handler);
    }

    /**
     * The relay {@code handler = forward} runs for {@code service}: each link to the service's
     * {@code forward} endpoint (docs/port-sharing.md), for {@link #handleLinks}.
     *
     * @throws io.mancom.ConfigException if the service has no valid forward settings
     */
    public io.mancom.core.spi.LinkHandler forwarder(String service) {
        return new io.mancom.core.internal.forward.Forwarder(demuxer.service(service).settings, loops,
                transports::forEndPoint, monitor);
    }

    /**
     * The handler {@code handler = tunnel} runs for {@code service}: each link becomes one stream
     * on the mux link of the service's {@code via} (docs/proxy.md, Tunnels), for {@link #handleLinks}.
     *
     * @throws io.mancom.ConfigException if the service has no valid tunnel settings
     */
    public io.mancom.core.spi.LinkHandler tunneller(String service) {
        io.mancom.core.spi.ServiceSettings s = demuxer.service(service).settings;
        io.mancom.core.internal.config.TunnelSettings t = io.mancom.core.internal.config.TunnelSettings.of(s);
        String via = t == null ? null : t.via();
        if (via != null) {
            demuxer.service(via); // an unknown uplink fails now, not at the first client
        }
        return new io.mancom.core.internal.forward.Tunneller(s, () -> demuxer.uplink(via), monitor);
    }

    /** The DeMuxer, for the blocking API's hooks ({@link BlockingHooks}). */
    DeMuxer demuxer() {
        return demuxer;
    }

    @Override
    public Poller newPoller() {
        return new BlockingPoller(demuxer);
    }

    @Override
    public void awaitReady(Duration timeout) throws ManComException {
        demuxer.awaitReady(Objects.requireNonNull(timeout, "timeout"));
    }

    @Override
    public Set<String> services() {
        return demuxer.serviceNames();
    }

    @Override
    public EndPoint endpoint(String service) {
        return demuxer.service(service).settings.endpoint();
    }

    @Override
    public Optional<EndPoint> boundEndPoint(String service) {
        return Optional.ofNullable(demuxer.service(service).boundEndPoint());
    }

    @Override
    public ManComStatus status() {
        return monitor.status();
    }

    /** The control socket this runtime serves, if it serves one (monitoring; for tests and tools). */
    public Optional<Path> controlSocket() {
        return Optional.ofNullable(control).map(ControlServer::socket);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            if (control != null) {
                control.close();
            }
            if (metricsListener != null) {
                metricsListener.close();
            }
            demuxer.close();
        } finally {
            try {
                transports.close();
            } finally {
                loops.shutdown();
            }
        }
    }

    @Override
    public String toString() {
        return "ManCom" + services();
    }
}
