package io.mancom.core.internal.monitor;

import io.mancom.core.internal.ChannelEndPoints;

import io.mancom.ChannelStatus;
import io.mancom.EndPoint;
import io.mancom.EventListener;
import io.mancom.ManComException;
import io.mancom.ManComStatus;
import io.mancom.ServiceStatus;
import io.mancom.TransportType;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A runtime's figures: the registry of its live channels, each with its {@link ChannelStats},
 * the totals of each service, and the events of both for the {@link EventListener}s.
 *
 * <h2>Seams</h2>
 * The runtime calls {@link #track} for every channel it turns into a connection (TCP connections,
 * devices, mux streams) and {@link #trackSession} for every link that carries a mux session;
 * both put a {@link ChannelStats} at the front of the channel's pipeline. A closed channel leaves
 * the registry; its counts stay in its service's totals. {@link #error} reports a failure that
 * does not close a channel.
 *
 * <h2>Threading</h2>
 * {@code track}, {@code trackSession} and the events run on the channel's event loop; listeners
 * are called there (see {@link EventListener}'s contract). {@link #status()} runs on any thread
 * and reads the counters racily (each value is one the counter had). Thread-safe.
 */
public final class Monitor {
    private static final Logger log = LoggerFactory.getLogger(Monitor.class);

    private final long pid = ProcessHandle.current().pid();
    private final String processName;
    private final Instant startedAt = Instant.now();
    private final Map<String, ServiceStats> services;
    private final Map<Long, ChannelStats> channels = new ConcurrentHashMap<>();
    private final ServiceSource source;
    private final EventListener user;
    private final EventHub hub = new EventHub();
    /**
     * Whether channels get a counting handler ({@code -Dio.mancom.counters=false} turns it off, for
     * benchmarks that compare the two in one process; not under {@code mancom.}, which is configuration). Off, channels
     * are still listed and their events reported; their byte counts stay 0.
     */
    private final boolean counting = Boolean.parseBoolean(System.getProperty("io.mancom.counters", "true"));
    private final LogEvents logEvents = new LogEvents();

    /**
     * @param services every configured service and its endpoint
     * @param source   how each service is served now
     * @param user     the application's listener ({@link EventListener#NONE} for none)
     */
    public Monitor(Map<String, EndPoint> services, ServiceSource source, EventListener user) {
        Map<String, ServiceStats> m = new TreeMap<>();
        services.forEach((name, endpoint) -> m.put(name, new ServiceStats(name, endpoint)));
        this.services = m;
        this.source = source;
        this.user = user;
        this.processName = processName();
    }

    /** The events as Server-Sent Events for the control socket's subscribers. */
    EventHub hub() {
        return hub;
    }

    // ---- seams ----

    /**
     * Starts counting a channel that became connection {@code id} of {@code service}, and tells
     * the listeners it opened. On the channel's loop; before the channel's first read.
     *
     * @param accepted whether a peer opened it to a service served here (counts in
     *                 {@code acceptedTotal} for TCP connections and mux streams)
     */
    public ChannelStats track(Channel ch, long id, String service, EndPoint local, EndPoint remote, boolean accepted) {
        ServiceStats s = services.get(service);
        ChannelStatus.Kind kind;
        long session = 0;
        if (ch instanceof MuxStreamChannel stream) {
            kind = ChannelStatus.Kind.MUX_STREAM;
            ChannelStats link = ChannelStats.of(stream.session().link());
            session = link != null ? link.id : 0;
        } else {
            kind = kindOf(s != null ? s.endpoint.type() : TransportType.TCP);
        }
        ChannelStats c = new ChannelStats(this, ch, id, kind, service, session, local, remote, s);
        if (s != null) {
            s.opened(c, accepted && (kind == ChannelStatus.Kind.TCP || kind == ChannelStatus.Kind.MUX_STREAM));
        }
        return install(ch, c);
    }

    /**
     * Starts counting a link that carries a mux session of {@code services} (their names,
     * comma-separated), and tells the listeners it opened. On the link's loop, before its first
     * read. The session's bytes are not added to any service's totals (its streams' bytes are).
     */
    public ChannelStats trackSession(Channel link, long id, String services, EndPoint configured) {
        ChannelStats c = new ChannelStats(this, link, id, ChannelStatus.Kind.MUX_SESSION, services, 0,
                ChannelEndPoints.local(link, configured),
                ChannelEndPoints.remote(link, configured), null);
        return install(link, c);
    }

    private ChannelStats install(Channel ch, ChannelStats c) {
        assert ch.eventLoop().inEventLoop();
        ch.attr(ChannelStats.KEY).set(c);
        channels.put(c.id, c);
        if (counting) {
            ch.pipeline().addFirst(ChannelStats.NAME, c);
        }
        ChannelStatus opened = c.snapshot(0);
        dispatch(l -> l.connectionOpened(opened));
        // The close future completes (on the loop) before the pipeline hears of the close, so the
        // channel has left the live list and its service's totals are final by the time the
        // application's onClose runs. Added after the open event: a channel that is closed
        // already reports its close at once, and must not report it first.
        ch.closeFuture().addListener(f -> closed(c));
        return c;
    }

    private void closed(ChannelStats c) {
        if (channels.remove(c.id, c)) {
            Throwable cause = c.finish();
            if (c.serviceStats != null) {
                c.serviceStats.closed(c);
                if (cause != null) {
                    c.serviceStats.error(Reasons.of(cause));
                }
            }
            ChannelStatus last = c.snapshot(0);
            dispatch(l -> l.connectionClosed(last, cause));
        }
    }

    void reconnected(ChannelStats c, int attempts) {
        if (c.serviceStats != null) {
            c.serviceStats.reconnected();
        }
        ChannelStatus now = c.snapshot(0);
        dispatch(l -> l.reconnect(now, attempts));
    }

    /**
     * A failure that does not close a channel (a bind or open failure, a refused write): counts it
     * under its reason and tells the listeners. Any thread.
     *
     * @param channel the channel concerned, or null for the service itself
     */
    public void error(String service, Channel channel, Throwable failure) {
        ServiceStats s = services.get(service);
        ManComException e = Reasons.asManCom(failure);
        if (s != null) {
            s.error(e.reason());
        }
        ChannelStats c = channel != null ? ChannelStats.of(channel) : null;
        ChannelStatus status = c != null ? c.snapshot(0) : null;
        dispatch(l -> l.error(service, status, e));
    }

    private void dispatch(java.util.function.Consumer<EventListener> event) {
        try {
            event.accept(user);
        } catch (RuntimeException e) {
            log.warn("the application's EventListener threw (listeners must not throw): {}", e.toString(), e);
        }
        event.accept(logEvents);
        event.accept(hub);
    }

    // ---- reading ----

    /** A snapshot of the whole runtime. Any thread. */
    public ManComStatus status() {
        List<ChannelStats> live = new ArrayList<>(channels.values());
        live.sort(Comparator.comparingLong(ChannelStats::id));
        Map<Long, Integer> streams = new HashMap<>();
        for (ChannelStats c : live) {
            if (c.kind == ChannelStatus.Kind.MUX_STREAM && c.sessionId != 0) {
                streams.merge(c.sessionId, 1, Integer::sum);
            }
        }
        List<ChannelStatus> chans = new ArrayList<>(live.size());
        for (ChannelStats c : live) {
            chans.add(c.snapshot(streams.getOrDefault(c.id, 0)));
        }
        List<ServiceStatus> svcs = new ArrayList<>(services.size());
        for (ServiceStats s : services.values()) {
            svcs.add(serviceStatus(s));
        }
        return new ManComStatus(pid, processName, startedAt, Instant.now(), svcs, chans);
    }

    private ServiceStatus serviceStatus(ServiceStats s) {
        ServiceSource.ServiceState st = source.state(s.name);
        ServiceStats.Totals t = s.totals();
        return new ServiceStatus(s.name, s.endpoint.type(), s.endpoint, st.bound(), source.scope(s.name),
                st.state(), st.why(), st.style(), t.open(), t.accepted(), t.bytesIn(), t.bytesOut(), t.errors(),
                t.reconnects(), t.streams(), t.queued());
    }

    /** The totals of every service, for the metrics. Any thread. */
    Map<String, ServiceStats.Totals> totals() {
        Map<String, ServiceStats.Totals> m = new TreeMap<>();
        services.forEach((name, s) -> m.put(name, s.totals()));
        return m;
    }

    /** The transport of each service. */
    Map<String, TransportType> transports() {
        Map<String, TransportType> m = new TreeMap<>();
        services.forEach((name, s) -> m.put(name, s.endpoint.type()));
        return m;
    }

    long pid() {
        return pid;
    }

    private static ChannelStatus.Kind kindOf(TransportType t) {
        return switch (t) {
            case TCP -> ChannelStatus.Kind.TCP;
            case SERIAL -> ChannelStatus.Kind.SERIAL;
            case USB -> ChannelStatus.Kind.USB;
        };
    }

    /** The main class or jar of this JVM (as {@code jps} shows it), else the executable's name. */
    private static String processName() {
        String command = System.getProperty("sun.java.command", "").trim();
        if (!command.isEmpty()) {
            String first = command.split("\\s+", 2)[0];
            return first.substring(first.lastIndexOf('/') + 1);
        }
        return ProcessHandle.current().info().command()
                .map(c -> c.substring(c.lastIndexOf('/') + 1)).orElse("java");
    }
}
