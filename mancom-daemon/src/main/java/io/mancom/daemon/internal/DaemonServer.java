package io.mancom.daemon.internal;

import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.internal.config.DaemonSettings;
import io.mancom.core.spi.ConfigTools;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.spi.RuntimeOptions;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ImmediateEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The running daemon: its event loops, its {@link Daemon} (the owners), the control socket with
 * {@link ControlRoutes}, systemd notification and SIGHUP.
 *
 * <h2>Start order</h2>
 * The configuration is loaded (a bad one throws {@link io.mancom.ConfigException} before anything
 * is opened); a live daemon at the socket stops the start ({@link ControlSocket.AlreadyRunning});
 * then the owners bind, then the control socket serves, then systemd hears {@code READY=1}: a
 * process that can attach finds every service in place.
 *
 * <h2>Threading</h2>
 * I/O runs on the daemon's own epoll loops ({@code mancomd-io-*}); status, metrics and reloads
 * on one control thread ({@code mancomd-control}), so reloads are serialised and no loop blocks.
 * {@link #reload()} and {@link #close()} may be called from any thread but a loop.
 */
public final class DaemonServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DaemonServer.class);
    /** The handlers of a control connection's HTTP phase, removed at an attach's 101. */
    static final List<String> HTTP_HANDLERS = List.of("timeout", "http", "aggregate");
    /** Control connections (HTTP and attach) at once; one more is closed at accept. */
    static final int MAX_CONNECTIONS = 1024;
    /** The largest request (headers and body) the control socket takes. */
    static final int MAX_REQUEST = 16 * 1024;
    /** How long a control connection may be silent before its request is complete. */
    static final int HTTP_IDLE_SECONDS = 30;

    private final EventLoopGroup group;
    private final ExecutorService control;
    private final Daemon daemon;
    private final SdNotify notify;
    private final ChannelGroup clients;
    private volatile ControlSocket socket;
    private volatile boolean closed;

    private DaemonServer(EventLoopGroup group, ExecutorService control, Daemon daemon, SdNotify notify,
                         ChannelGroup clients) {
        this.group = group;
        this.control = control;
        this.daemon = daemon;
        this.notify = notify;
        this.clients = clients;
    }

    /**
     * Starts the daemon.
     *
     * @param env the process environment (LISTEN_PID, LISTEN_FDS, NOTIFY_SOCKET)
     * @throws io.mancom.ConfigException the configuration is invalid (nothing was opened)
     * @throws IOException                a daemon already runs at the socket, or it cannot be served
     */
    public static DaemonServer start(RuntimeOptions options, Map<String, String> env) throws IOException {
        return start(options, env, DaemonServer::relay);
    }

    /**
     * The owner of device services and services with mux on: one per endpoint (a device, or the
     * TCP endpoint of a mux link), running the link in a runtime of its own and relaying each of
     * its connections to an attached process as a mux stream (or, for a serial line with mux off,
     * handing the line's descriptor over). Opening a device that is not there
     * yet is not a failure: the owner keeps trying, as a process's device listener does.
     */
    private static Owner relay(List<ServiceSettings> services, RuntimeSettings settings) {
        // A device is one line, served by one loop (a mux = on line's streams too): a second loop
        // would only keep the line and its attach connections apart (RelayOwner moves them onto one).
        boolean device = services.get(0).endpoint().type() != io.mancom.TransportType.TCP;
        int threads = device ? 1 : Math.max(1, Math.min(2, settings.ioThreads()));
        RelayOwner owner = new RelayOwner(services, threads, settings.layers(), settings.config());
        owner.start();
        return owner;
    }

    /** {@link #start(RuntimeOptions, Map)} with another maker of relay owners (tests). */
    static DaemonServer start(RuntimeOptions options, Map<String, String> env, Daemon.OwnerFactory relays)
            throws IOException {
        if (!Epoll.isAvailable()) {
            throw new IOException("the daemon needs Linux with Netty's native epoll: " + Epoll.unavailabilityCause());
        }
        RuntimeSettings settings = ConfigTools.load(options);
        Path path = DaemonSettings.of(settings).socket();
        if (!ControlSocket.activated(env) && ControlSocket.answers(path)) {
            throw new ControlSocket.AlreadyRunning(path);
        }
        int threads = settings.ioThreads() > 0 ? settings.ioThreads() : 2;
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("mancomd-io", true),
                NettyRuntime.epollIoHandlerFactory());
        ExecutorService control = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "mancomd-control");
            t.setDaemon(true);
            return t;
        });
        DaemonServer s = new DaemonServer(group, control, new Daemon(options, group, relays),
                SdNotify.open(env.get("NOTIFY_SOCKET"), group),
                new DefaultChannelGroup("mancomd-clients", ImmediateEventExecutor.INSTANCE));
        try {
            s.daemon.start();
            s.socket = ControlSocket.open(path, env, group, s.initializer());
        } catch (IOException | RuntimeException | Error e) {
            s.close();
            throw e;
        }
        s.notify.send("READY=1\nSTATUS=serving " + s.daemon.services().size() + " system service(s) on "
                + s.socket.path());
        log.info("mancom daemon {} serving {} on {}", ProcessHandle.current().pid(), s.daemon.services(), s.socket.path());
        return s;
    }

    /** Each control connection's pipeline: bounded HTTP, then the routes. */
    private ChannelInitializer<Channel> initializer() {
        Credentials credentials = new Credentials();
        int uid = Credentials.myUid();
        DaemonMetrics metrics = new DaemonMetrics(daemon);
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (clients.size() >= MAX_CONNECTIONS) {
                    log.warn("control socket: {} connections open already; closing a new one", MAX_CONNECTIONS);
                    ch.close();
                    return;
                }
                clients.add(ch);
                ch.pipeline()
                        .addLast("timeout", new ReadTimeoutHandler(HTTP_IDLE_SECONDS))
                        .addLast("http", new HttpServerCodec(4096, 8192, 8192))
                        .addLast("aggregate", new HttpObjectAggregator(MAX_REQUEST))
                        .addLast("routes", new ControlRoutes(daemon, credentials, uid, control,
                                () -> StatusJson.status(daemon, socket.path().toString()), metrics::scrape,
                                DaemonServer.this::reloadJson));
            }
        };
    }

    /** Its owners (tests). */
    Daemon daemon() {
        return daemon;
    }

    /** The socket it serves. */
    public Path socket() {
        return socket.path();
    }

    /** Re-reads the configuration (as SIGHUP and POST /v1/reload do); returns the report as JSON. */
    public String reload() {
        try {
            return control.submit(this::reloadJson).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reloading", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("reload failed: " + e.getCause(), e.getCause());
        }
    }

    /** SIGHUP's way: the reload runs on the control thread; the signal thread does not wait. */
    public void reloadLater() {
        if (!closed) {
            control.execute(this::reloadJson);
        }
    }

    /** On the control thread. */
    private String reloadJson() {
        notify.send("RELOADING=1\nMONOTONIC_USEC=" + TimeUnit.NANOSECONDS.toMicros(System.nanoTime()));
        try {
            return StatusJson.report(daemon.reload());
        } finally {
            notify.send("READY=1\nSTATUS=serving " + daemon.services().size() + " system service(s)");
        }
    }

    /** Stops: the control socket, every owner (listeners, held connections, attaches), the loops. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        notify.send("STOPPING=1");
        try {
            if (socket != null) {
                socket.close();
            }
            clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            daemon.close();
        } finally {
            notify.close();
            control.shutdownNow();
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
            log.info("mancom daemon stopped");
        }
    }
}
