package io.mancom.daemon.internal;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.mancom.AcceptCallback;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.core.internal.config.ScopeSettings;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.spi.ConfigLayer;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The owner of one endpoint that the daemon opens in a runtime of its own: a device (serial, USB)
 * with {@code mux = off}, which is one service, or a device or TCP endpoint with {@code mux = on},
 * whose services share the link. A serial line with {@code mux = off} is handed to its process as
 * a descriptor ({@code ManCom-Carry: device}, {@link HandedLine}); every other connection's bytes
 * are relayed ({@code ManCom-Carry: mux}), as below.
 *
 * <h2>How</h2>
 * The endpoint runs in a ManCom runtime of its own, holding only these services (as
 * {@code scope = process}: here is where they are bound) and serving no control socket. Each
 * service is registered as an acceptor, so the runtime opens the device and reopens it after a
 * loss, or binds the TCP port, and runs the link's mux session. Every connection the runtime
 * accepts (the whole line, or a stream the far end opened) is relayed as one mux stream on the
 * attach connection of one process serving the service (docs/daemon.md, "Attach"); see
 * {@link Relay} for the copying, backpressure and closing, {@link RelayedService} for handing
 * over, holding and the bounds.
 *
 * <h2>Lifecycle</h2>
 * {@link #RelayOwner construct} (loads nothing, starts the runtime's event loops), {@link #start()}
 * (opens or binds the endpoint), {@link #attach} for every process, {@link #close()}.
 * When a process's attach connection closes (even after {@code kill -9}) its relayed connections
 * close, except the whole line of a {@code mux = off} device: that goes back to held, the device
 * open and not read, for the next process.
 *
 * <h2>Holding</h2>
 * While no process is attached to a service, its new connections are held, paused (see
 * {@link RelayedService}): at most {@code hold.connections} of them, each for at most
 * {@code hold.timeout}, past which they are closed with one log line. The whole line of a
 * {@code mux = off} device is exempt from both bounds: closing it would only make the runtime
 * reopen it, so it stays open and unread (the device's own buffers and flow control hold its
 * bytes) until a process attaches. Bytes already relayed into a process that then dies are lost
 * with it; nothing the device had not yet handed to that process is.
 *
 * <h2>The attach session</h2>
 * The daemon's side is {@link Attachment#SESSION}: initiator, {@code routing = none}, no keepalive,
 * no idle timeout, the default {@code max-streams} (256) and windows. A process whose streams are
 * all in use gets no more until one ends; the connections wait as held ones do.
 *
 * <h2>Threading</h2>
 * Thread-safe. {@link #attach} runs on the attach connection's loop (the daemon's); the runtime
 * has loops of its own ({@code ioThreads}). With one loop (the daemon gives a device owner one),
 * each attach connection is moved onto it before its session starts, so a device's bytes reach
 * the Unix socket on the thread that read them.
 *
 * <h2>Buffer ownership</h2>
 * Every buffer that passes through is released here or by the channel it is written to.
 *
 * <h2>Errors</h2>
 * Bad settings fail the constructor ({@link io.mancom.ConfigException}); a device that cannot be
 * opened shows in {@link #awaitReady} and in the runtime's status, and is retried by the runtime.
 */
final class RelayOwner implements Owner {
    private static final Logger log = LoggerFactory.getLogger(RelayOwner.class);
    private final ManComRuntime runtime;
    private final Map<String, RelayedService> services;
    private final Map<String, Boolean> wholeLine;
    /** The serial services with mux off: their line is handed over, not relayed (empty, or the one service). */
    private final Map<String, HandedLine> lines;
    private final AtomicBoolean started = new AtomicBoolean();
    /**
     * The runtime's only loop when it has one (a device owner's: one line, and a {@code mux = on}
     * line's streams are on the line's loop), which every attach connection is moved to; null
     * when the runtime has several loops (attach connections stay on the daemon's).
     */
    private final EventLoop home;

    /**
     * An owner on the embedded defaults (no transport-wide settings from the daemon's files).
     *
     * @param services  the services of one endpoint, as the daemon loaded them ({@code scope = system})
     * @param ioThreads the runtime's event-loop threads (0: {@code mancom.io-threads})
     */
    RelayOwner(List<ServiceSettings> services, int ioThreads) {
        this(services, ioThreads, List.of(), ConfigFactory.defaultReference());
    }

    /**
     * An owner whose runtime sees the daemon's loaded configuration ({@code layers} and
     * {@code config}, for transport-wide blocks such as {@code mancom.usb}); its control socket and
     * metrics listener are off whatever the config says: the daemon serves those.
     */
    RelayOwner(List<ServiceSettings> services, int ioThreads, List<ConfigLayer> layers, Config config) {
        if (services.isEmpty()) {
            throw new IllegalArgumentException("services is empty");
        }
        SortedMap<String, ServiceSettings> own = new TreeMap<>();
        Map<String, RelayedService> relayed = new TreeMap<>();
        Map<String, HandedLine> handed = new TreeMap<>();
        Map<String, Boolean> whole = new TreeMap<>();
        for (ServiceSettings s : services) {
            own.put(s.name(), ScopeSettings.ownedHere(s));
            whole.put(s.name(), !MuxSettings.of(s).enabled());
        }
        Config quiet = config
                .withValue("mancom.control", ConfigValueFactory.fromAnyRef(false))
                .withValue("mancom.metrics.listen", ConfigValueFactory.fromAnyRef(""));
        this.runtime = new ManComRuntime(new RuntimeSettings(ioThreads, Collections.unmodifiableSortedMap(own),
                List.copyOf(layers), quiet), ioThreads);
        try {
            NettyRuntime netty = runtime.unwrap(NettyRuntime.class);
            this.home = onlyLoop(netty.group());
            for (ServiceSettings s : services) {
                if (handsOver(s) && home != null) {
                    handed.put(s.name(), new HandedLine(s.name(), home));
                } else {
                    relayed.put(s.name(), new RelayedService(s.name(), ScopeSettings.of(s), netty.group()));
                }
            }
        } catch (RuntimeException e) {
            runtime.close();
            throw e;
        }
        this.services = Collections.unmodifiableMap(relayed);
        this.wholeLine = Collections.unmodifiableMap(whole);
        this.lines = Collections.unmodifiableMap(handed);
    }

    /**
     * Whether the line of {@code s} is handed to its process as a descriptor ({@code ManCom-Carry:
     * device}) rather than relayed: a serial line with {@code mux = off} (one connection, one
     * process at a time; the daemon's serial link is a descriptor on its epoll loop). A USB device
     * has no descriptor to hand over (libusb's handle is the daemon's), and a {@code mux = on}
     * line is cut into streams only the daemon can serve: those are relayed.
     */
    static boolean handsOver(ServiceSettings s) {
        return s.endpoint().type() == io.mancom.TransportType.SERIAL && !MuxSettings.of(s).enabled();
    }

    /**
     * Registers every service with the runtime: from here on it opens (and reopens) the device or
     * binds the port, and its connections are relayed or held. Idempotent.
     *
     * @throws IllegalStateException if closed
     */
    void start() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        for (HandedLine l : lines.values()) {
            runtime.registerAcceptor(l.name, l::opened); // inline on the line's loop: paused before any read
            runtime.registerDataReceiver(l.name, RECEIVER);
        }
        for (RelayedService s : services.values()) {
            boolean whole = wholeLine.get(s.name);
            AcceptCallback accept = c -> {
                // Not a byte is read before a process has a stream for it.
                c.pauseReading();
                Relay r = new Relay(c, s, whole);
                c.attach(r);
                c.setWritabilityListener((conn, writable) -> {
                    if (writable) {
                        r.onConnectionWritable();
                    }
                });
                s.hold(r);
            };
            // The acceptor first: a connection that comes before the receiver waits for it.
            runtime.registerAcceptor(s.name, accept);
            runtime.registerDataReceiver(s.name, RECEIVER);
        }
    }

    /**
     * Waits until every service's endpoint is open or bound.
     *
     * @throws ManComException TIMEOUT, or why an endpoint cannot be opened
     */
    void awaitReady(Duration timeout) throws ManComException {
        runtime.awaitReady(timeout);
    }

    /** {@code device} for an owner of a handed-over line (its one service), else {@code mux}. */
    @Override
    public String carry() {
        return lines.isEmpty() ? "mux" : "device";
    }

    @Override
    public boolean serves(String service) {
        return services.containsKey(service) || lines.containsKey(service);
    }

    @Override
    public EndPoint endpoint(String service) {
        return runtime.boundEndPoint(service).orElseGet(() -> runtime.endpoint(service));
    }

    @Override
    public void attach(String service, Channel connection, Peer peer) {
        HandedLine line = lines.get(service);
        if (line != null) {
            line.attach(connection, peer); // no byte of the line passes here: it stays on the daemon's loop
            return;
        }
        RelayedService s = services.get(service);
        if (s == null) {
            connection.close();
            throw new IllegalArgumentException("this owner does not serve '" + service + "'; it serves "
                    + services.keySet());
        }
        EventLoop home = this.home;
        if (home == null || connection.eventLoop() == home) {
            s.attach(Attachment.install(service, connection, peer));
            return;
        }
        // Onto the device's loop: the relay then hands each read to the stream on the same thread,
        // where on the daemon's loop every read cost a task and a wake-up of a second thread (and
        // three threads, not two, had to run for each byte to reach the process). Nothing is read
        // meanwhile: the control route turned auto-read off, and epoll reports on registration
        // what arrived while the connection was on neither loop.
        connection.deregister().addListener(d -> {
            if (!d.isSuccess()) {
                connection.close();
                return;
            }
            home.register(connection).addListener(r -> {
                if (!r.isSuccess()) {
                    log.debug("service '{}': cannot move the attach connection of {} to the device's loop: {}",
                            service, peer, r.cause().toString());
                    connection.close();
                    return;
                }
                s.attach(Attachment.install(service, connection, peer));
            });
        });
    }

    @Override
    public OwnerStatus status(String service) {
        HandedLine line = lines.get(service);
        if (line != null) {
            return line.status();
        }
        RelayedService s = services.get(service);
        if (s == null) {
            throw new IllegalArgumentException("this owner does not serve '" + service + "'; it serves "
                    + services.keySet());
        }
        return s.status();
    }

    /** The services this owner serves. */
    public List<String> services() {
        List<String> all = new ArrayList<>(services.keySet());
        all.addAll(lines.keySet());
        return all;
    }

    @Override
    public void close() {
        lines.values().forEach(HandedLine::close);
        try {
            runtime.close(); // the device (or port): every relayed connection closes, and its stream
        } finally {
            services.values().forEach(RelayedService::close);
        }
    }

    @Override
    public String toString() {
        return "RelayOwner" + services.keySet();
    }

    private static EventLoop onlyLoop(EventLoopGroup group) {
        EventLoop only = null;
        for (EventExecutor e : group) {
            if (only != null || !(e instanceof EventLoop l)) {
                return null;
            }
            only = l;
        }
        return only;
    }

    /** The device side of every relay: the runtime's callbacks, passed to the connection's relay. */
    private static final DataReceiver RECEIVER = new DataReceiver() {
        @Override
        public void onData(Connection connection, ByteBuffer data) {
            if (connection.attachment() instanceof HandedLine l) {
                l.read(data.remaining());
                return;
            }
            ((Relay) connection.attachment()).onData(data);
        }

        @Override
        public void onInputShutdown(Connection connection) {
            if (connection.attachment() instanceof Relay r) {
                r.onInputShutdown();
            }
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            if (connection.attachment() instanceof Relay r) {
                r.onClose();
            } else if (connection.attachment() instanceof HandedLine l) {
                l.lineClosed(connection);
            }
        }
    };
}
