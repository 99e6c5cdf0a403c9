package io.mancom.core.internal.monitor;

import io.mancom.ChannelStatus;
import io.mancom.EndPoint;
import io.mancom.EventListener;
import io.mancom.ManComException;
import io.mancom.ManComStatus;
import io.mancom.ServiceStatus;
import io.mancom.TransportType;
import io.mancom.core.internal.ChannelEndPoints;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import io.mancom.core.spi.Refusal;
import java.util.Map;
import java.util.TreeMap;

/**
 * A runtime's figures: the registry of its live channels, each with its {@link ChannelStats},
 * the totals of each service, and the events of both for the {@link EventListener}s.
 *
 * <h2>Seams</h2>
 * The runtime calls {@link #track} for every connection (TCP connections, devices, mux streams):
 * the connection is its own {@link ChannelStats} and counts where it handles the bytes anyway,
 * and calls {@link #closed} when its channel closes. {@link #trackSession} counts a link that
 * carries a mux session ({@link LinkStats}, with a small handler at the front of the link). A
 * closed channel leaves the live list; its counts stay in its service's totals. {@link #error}
 * reports a failure that does not close a channel.
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
    /** Live channels that count toward no service: mux sessions (and connections of an unknown service). */
    private final LiveChannels unserved = new LiveChannels();
    private final ServiceSource source;
    private final EventListener user;
    private final EventHub hub = new EventHub();
    /**
     * Whether channels count ({@code -Dio.mancom.counters=false} turns it off, for
     * benchmarks that compare the two in one process; not under {@code mancom.}, which is configuration). Off, channels
     * are still listed and their events reported; their byte counts stay 0.
     */
    private final boolean counting = Boolean.parseBoolean(System.getProperty("io.mancom.counters", "true"));
    private final LogEvents logEvents = new LogEvents();
    private final PortCounters ports = new PortCounters();

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
     * Starts counting connection {@code c} (a TCP connection, device or mux stream whose owner
     * keeps its counters) and tells the listeners it opened. On the channel's loop; before the
     * channel's first read.
     *
     * @param accepted whether a peer opened it to a service served here (counts in
     *                 {@code acceptedTotal} for TCP connections and mux streams)
     */
    public void track(ChannelStats c, boolean accepted) {
        Channel ch = c.countedChannel();
        assert ch.eventLoop().inEventLoop();
        ServiceStats s = services.get(c.service());
        c.bind(this, s, counting);
        if (!(ch instanceof MuxStreamChannel)) {
            ch.attr(ChannelStats.KEY).set(c); // for the device and transport code; a stream needs none
        }
        if (s != null) {
            ChannelStatus.Kind kind = c.kind();
            s.opened(c, accepted && (kind == ChannelStatus.Kind.TCP || kind == ChannelStatus.Kind.MUX_STREAM));
        } else {
            synchronized (unserved) {
                unserved.add(c);
            }
        }
        opened(c);
        // After the open event: a channel that is closed already reports its close at once, and
        // must not report it first. The entry is its own listener (no allocation per channel).
        ch.closeFuture().addListener(c);
    }

    /**
     * Starts counting a link that carries a mux session of {@code services} (their names,
     * comma-separated), and tells the listeners it opened. On the link's loop, before its first
     * read. The session's bytes are not added to any service's totals (its streams' bytes are).
     */
    public LinkStats trackSession(Channel link, long id, String services, EndPoint configured) {
        assert link.eventLoop().inEventLoop();
        LinkStats c = new LinkStats(link, id, services, ChannelEndPoints.local(link, configured),
                ChannelEndPoints.remote(link, configured));
        c.bind(this, null, counting);
        link.attr(ChannelStats.KEY).set(c);
        synchronized (unserved) {
            unserved.add(c);
        }
        if (counting) {
            link.pipeline().addFirst(LinkStats.NAME, c.counter());
        }
        opened(c);
        link.closeFuture().addListener(c);
        return c;
    }

    private void opened(ChannelStats c) {
        ChannelStatus opened = c.snapshot(0);
        dispatch(l -> l.connectionOpened(opened));
    }

    /**
     * Channel {@code c} has closed: it leaves the live list, its counts stay in its service's
     * totals, and the listeners hear of it with its cause. Once; on the channel's loop, when its
     * close future completes (before the pipeline hears of the close, so the channel has left the
     * live list and its service's totals are final by the time the application's onClose runs).
     */
    void closed(ChannelStats c) {
        boolean removed;
        if (c.serviceStats != null) {
            removed = c.serviceStats.closed(c);
        } else {
            synchronized (unserved) {
                removed = unserved.remove(c);
            }
        }
        if (!removed) {
            return;
        }
        Throwable cause = c.finish();
        if (c.serviceStats != null && cause != null) {
            c.serviceStats.error(Reasons.of(cause));
        }
        ChannelStatus last = c.snapshot(0);
        dispatch(l -> l.connectionClosed(last, cause));
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
     * @param c the channel concerned, or null for the service itself
     */
    public void error(String service, ChannelStats c, Throwable failure) {
        ServiceStats s = services.get(service);
        ManComException e = Reasons.asManCom(failure);
        if (s != null) {
            s.error(e.reason());
        }
        ChannelStatus status = c != null ? c.snapshot(0) : null;
        dispatch(l -> l.error(service, status, e));
    }

    /**
     * Counts a failure under {@code reason} without an event: for failures a peer can cause at will
     * (a failed TLS handshake), whose caller logs a summary instead of a line each. Any thread.
     */
    public void count(String service, ManComException.Reason reason) {
        ServiceStats s = services.get(service);
        if (s != null) {
            s.error(reason);
        }
    }

    /** As {@link #count(String, ManComException.Reason)}, under the reason {@code failure} gives. */
    public void countError(String service, Throwable failure) {
        count(service, Reasons.of(failure));
    }

    /** The counters of ports shared by match. */
    public PortCounters ports() {
        return ports;
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

    /**
     * A connection or stream of {@code service} was turned away before it became a connection
     * (limits, allow-lists, a failed accept, a stream that never named its service). Any thread.
     */
    public void refused(String service, Refusal why) {
        ServiceStats s = services.get(service);
        if (s != null) {
            s.refused(why);
        }
    }

    /** Each service's refusals by cause ({@code refused} in /status, {@code mancom_refused_total}). Any thread. */
    public Map<String, Map<String, Long>> refusals() {
        Map<String, Map<String, Long>> m = new TreeMap<>();
        services.forEach((name, s) -> m.put(name, s.refusals()));
        return m;
    }

    // ---- reading ----

    /** A snapshot of the whole runtime. Any thread. */
    public ManComStatus status() {
        List<ChannelStats> live = new ArrayList<>();
        for (ServiceStats s : services.values()) {
            live.addAll(s.live());
        }
        synchronized (unserved) {
            unserved.addTo(live);
        }
        live.sort(Comparator.comparingLong(ChannelStats::id));
        Map<Long, Integer> streams = new HashMap<>();
        for (ChannelStats c : live) {
            long session = c.sessionId();
            if (session != 0) {
                streams.merge(session, 1, Integer::sum);
            }
        }
        List<ChannelStatus> chans = new ArrayList<>(live.size());
        for (ChannelStats c : live) {
            chans.add(c.snapshot(streams.getOrDefault(c.id(), 0)));
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
