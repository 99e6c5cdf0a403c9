package io.mancom.daemon.internal;

import io.mancom.ConfigException;
import io.mancom.TransportType;
import io.mancom.core.internal.config.ScopeSettings;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.spi.ConfigTools;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.spi.RuntimeOptions;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The daemon's services: one {@link Owner} per {@code scope = system} service (a TCP service with
 * mux off gets a {@link TcpOwner}; the services of one device or mux link share one relay owner),
 * built from the layered configuration, rebuilt where it changed by {@link #reload()}.
 *
 * <h2>Threading</h2>
 * {@link #start()}, {@link #reload()} and {@link #close()} are serialised on this object and block
 * (binding, closing); call them off the event loops. {@link #owner}, {@link #settings} and the
 * status readers take a snapshot of an immutable map and may run on any thread.
 */
final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);

    private final RuntimeOptions options;
    private final EventLoopGroup group;
    private final OwnerFactory relays;
    private final Instant started = Instant.now();
    /** Owner key ({@link Plan#key}) to the running owner and the plan it was made from. */
    private volatile Map<String, Running> running = Map.of();
    /** Service name to the key of its owner. */
    private volatile Map<String, String> byService = Map.of();
    private final Map<Channel, Attached> attached = new ConcurrentHashMap<>();

    /** Makes (and starts) the owner of services that are not TCP with mux off: the relay. */
    interface OwnerFactory {
        /**
         * @param servicesOfOneEndpoint the system services of one device or mux link
         * @param settings              the whole loaded configuration (layers, transport blocks)
         */
        Owner relay(List<ServiceSettings> servicesOfOneEndpoint, RuntimeSettings settings);
    }

    /** One process attached to a service now. */
    record Attached(String service, String style, Peer peer, Instant since) {
    }

    private record Plan(String key, List<ServiceSettings> services, boolean fds) {
    }

    /** The configuration the owners were last made from. */
    private volatile RuntimeSettings loaded;

    private record Running(Plan plan, Owner owner) {
    }

    /** What a reload did, by service name. */
    record Report(List<String> kept, List<String> started, List<String> restarted, List<String> stopped,
                  String error) {
    }

    Daemon(RuntimeOptions options, EventLoopGroup group, OwnerFactory relays) {
        this.options = options;
        this.group = group;
        this.relays = relays;
    }

    /** The owners as the configuration says; a bad configuration throws before anything is bound. */
    synchronized Report start() {
        return apply(load());
    }

    /**
     * Re-reads the configuration. Services whose settings are unchanged keep their owner and every
     * connection; changed or removed ones are closed (their processes re-attach and get the new
     * endpoint or carry), new ones started. A configuration that does not load changes nothing:
     * the report carries the error.
     */
    synchronized Report reload() {
        Map<String, Plan> plans;
        try {
            plans = load();
        } catch (ConfigException e) {
            log.warn("reload: the configuration is invalid, nothing changed: {}", e.getMessage());
            return new Report(List.copyOf(byService.keySet()), List.of(), List.of(), List.of(), e.getMessage());
        }
        return apply(plans);
    }

    private Map<String, Plan> load() {
        RuntimeSettings settings = ConfigTools.load(options);
        loaded = settings;
        Map<String, List<ServiceSettings>> groups = new TreeMap<>();
        Map<String, Boolean> fds = new TreeMap<>();
        for (ServiceSettings s : settings.services().values()) {
            if (!ScopeSettings.of(s).isSystem()) {
                continue;
            }
            boolean tcpFds = s.endpoint().type() == TransportType.TCP && !MuxSettings.of(s).enabled();
            String key = tcpFds ? "service:" + s.name() : "link:" + s.endpoint();
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
            fds.put(key, tcpFds);
        }
        Map<String, Plan> plans = new LinkedHashMap<>();
        groups.forEach((k, list) -> plans.put(k, new Plan(k, List.copyOf(list), fds.get(k))));
        return plans;
    }

    private Report apply(Map<String, Plan> plans) {
        Map<String, Running> old = running;
        Map<String, Running> now = new LinkedHashMap<>();
        List<String> kept = new ArrayList<>();
        List<String> started = new ArrayList<>();
        List<String> restarted = new ArrayList<>();
        List<String> stopped = new ArrayList<>();
        // First close what changed or went, so a service that moves between ports, or between
        // owners on one endpoint, finds its endpoint free.
        for (Running r : old.values()) {
            Plan p = plans.get(r.plan().key());
            if (!r.plan().equals(p) && !sameListener(r, p)) {
                r.owner().close();
                detachAll(r.plan());
            }
        }
        for (Plan p : plans.values()) {
            Running r = old.get(p.key());
            if (r != null && r.plan().equals(p)) {
                now.put(p.key(), r);
                names(p).forEach(kept::add);
            } else if (r != null && sameListener(r, p)) {
                // Only allow or hold changed: the listener, its backlog, the held connections and
                // the attached processes stay; the new bounds apply from now on.
                ((TcpOwner) r.owner()).update(p.services().get(0));
                now.put(p.key(), new Running(p, r.owner()));
                names(p).forEach(kept::add);
            } else {
                now.put(p.key(), new Running(p, make(p)));
                for (String n : names(p)) {
                    (byService.containsKey(n) ? restarted : started).add(n);
                }
            }
        }
        Map<String, String> services = new TreeMap<>();
        now.forEach((k, r) -> names(r.plan()).forEach(n -> services.put(n, k)));
        for (String n : byService.keySet()) {
            if (!services.containsKey(n)) {
                stopped.add(n);
            }
        }
        running = now;
        byService = services;
        Report report = new Report(kept, started, restarted, stopped, null);
        log.info("services: {} kept, {} started, {} restarted, {} stopped", kept, started, restarted, stopped);
        return report;
    }

    /**
     * Whether a TCP owner can stay for {@code p}: same endpoint and same {@code tcp} block (the
     * listener's options), only other keys (allow, hold, handler...) changed.
     */
    private static boolean sameListener(Running r, Plan p) {
        if (p == null || !p.fds() || !r.plan().fds() || !(r.owner() instanceof TcpOwner)) {
            return false;
        }
        ServiceSettings a = r.plan().services().get(0);
        ServiceSettings b = p.services().get(0);
        return a.endpoint().equals(b.endpoint()) && same(a, b, "tcp") && same(a, b, "mux");
    }

    private static boolean same(ServiceSettings a, ServiceSettings b, String block) {
        boolean has = a.config().hasPath(block);
        return has == b.config().hasPath(block)
                && (!has || a.config().getValue(block).equals(b.config().getValue(block)));
    }

    private Owner make(Plan p) {
        if (p.fds()) {
            return new TcpOwner(p.services().get(0), group.next()).start();
        }
        try {
            return relays.relay(p.services(), loaded);
        } catch (RuntimeException e) {
            String why = "cannot serve " + p.services().get(0).endpoint() + ": " + e.getMessage();
            log.warn("services {}: {}", names(p), why);
            return new PendingOwner(p.services(), why);
        }
    }

    private void detachAll(Plan p) {
        List<String> names = names(p);
        attached.entrySet().removeIf(e -> {
            if (names.contains(e.getValue().service())) {
                e.getKey().close();
                return true;
            }
            return false;
        });
    }

    private static List<String> names(Plan p) {
        return p.services().stream().map(ServiceSettings::name).toList();
    }

    /** The owner of {@code service}, or null when it is not a system service here. */
    Owner owner(String service) {
        String key = byService.get(service);
        Running r = key == null ? null : running.get(key);
        return r == null ? null : r.owner();
    }

    /** The settings of a system service, or null. */
    ServiceSettings settings(String service) {
        String key = byService.get(service);
        Running r = key == null ? null : running.get(key);
        if (r == null) {
            return null;
        }
        return r.plan().services().stream().filter(s -> s.name().equals(service)).findFirst().orElse(null);
    }

    /** Every system service, sorted. */
    List<String> services() {
        return List.copyOf(byService.keySet());
    }

    /** Records an attach until its connection closes (for the status). */
    void attached(Channel connection, String service, String style, Peer peer) {
        attached.put(connection, new Attached(service, style, peer, Instant.now()));
        connection.closeFuture().addListener(f -> attached.remove(connection));
    }

    /** The processes attached to {@code service} now. */
    List<Attached> attachedTo(String service) {
        return attached.values().stream().filter(a -> a.service().equals(service))
                .sorted((a, b) -> a.since().compareTo(b.since())).toList();
    }

    Instant started() {
        return started;
    }

    /** Closes every owner (their listeners, held connections and attach connections). */
    @Override
    public synchronized void close() {
        for (Running r : running.values()) {
            try {
                r.owner().close();
            } catch (RuntimeException e) {
                log.warn("closing the owner of {} failed: {}", names(r.plan()), e.toString());
            }
        }
        attached.keySet().forEach(Channel::close);
        running = Map.of();
        byService = Map.of();
    }

    @Override
    public String toString() {
        return "Daemon" + Objects.toString(byService.keySet());
    }
}
