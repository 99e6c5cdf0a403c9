package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.TcpAddress;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.spi.ConfigLayer;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Which services share a link, and the rules that span services: the checks that no single
 * service block can make. Both {@link ConfigLoader} (so {@code mancom config check} and
 * {@code ManCom.start} reject the same files with the same messages) and the runtime (which
 * builds its shared links from {@link #sharedLinks()}) use it.
 *
 * <p>The rules:
 * <ul>
 *   <li>each service's {@code mux} block is valid ({@link MuxSettings#from});</li>
 *   <li>services on one fixed endpoint all have {@code mux} on (each would otherwise bind or open
 *       the endpoint on its own and fight over it); plain binds to TCP port 0 never share;</li>
 *   <li>a shared link routes by service: {@code routing = none} carries one service only;</li>
 *   <li>with {@code mux} on and {@code routing = service}, the service name fits the stream
 *       preamble (one length byte: at most 255 bytes of UTF-8);</li>
 *   <li>services with a {@code match} share a TCP port by their first bytes: {@link PortPlan}'s rules.</li>
 * </ul>
 *
 * <p>An immutable value; thread-safe. {@link #of} throws the first problem found as a
 * {@link ConfigException} located at the value that causes it (file, line, key) and attaches the
 * others as suppressed exceptions, as the loader does.
 */
public final class ServicePlan {
    /** The longest service name a stream preamble carries, in bytes of UTF-8. */
    public static final int MAX_PREAMBLE_NAME = 255;

    /**
     * Services with {@code mux} on and the same endpoint: one link for all of them.
     *
     * @param endpoint the endpoint they share
     * @param members  their names, sorted; the first one's {@code mux} and {@code tcp} blocks
     *                 configure the link
     */
    public record SharedLink(EndPoint endpoint, List<String> members) {
        public SharedLink {
            members = List.copyOf(members);
        }
    }

    private final Map<String, SharedLink> byService;
    private final List<SharedLink> links;
    private final List<PortPlan.SharedPort> ports;

    private ServicePlan(Map<String, SharedLink> byService, List<SharedLink> links, List<PortPlan.SharedPort> ports) {
        this.byService = Collections.unmodifiableMap(byService);
        this.links = List.copyOf(links);
        this.ports = List.copyOf(ports);
    }

    /**
     * The plan of a loaded configuration.
     *
     * @throws ConfigException if a cross-service rule is broken (the others found are suppressed)
     */
    public static ServicePlan of(RuntimeSettings settings) {
        return of(settings.services(), files(settings.layers()));
    }

    /** As {@link #of(RuntimeSettings)}, for services by name. */
    public static ServicePlan of(Map<String, ServiceSettings> services) {
        return of(services, List.of());
    }

    private static ServicePlan of(Map<String, ServiceSettings> services, List<Path> files) {
        List<ConfigException> problems = new ArrayList<>();
        ServicePlan plan = build(services, files, problems);
        if (!problems.isEmpty()) {
            ConfigException first = problems.get(0);
            problems.subList(1, problems.size()).forEach(first::addSuppressed);
            throw first;
        }
        return plan;
    }

    /** Every problem with {@code services}, none if the plan is sound. */
    static List<ConfigException> problems(Map<String, ServiceSettings> services, List<ConfigLayer> layers) {
        List<ConfigException> problems = new ArrayList<>();
        build(services, files(layers), problems);
        return problems;
    }

    private static List<Path> files(List<ConfigLayer> layers) {
        return layers.stream().flatMap(l -> l.file().stream()).toList();
    }

    /** Every TCP port that services share by their first bytes ({@code match}; {@link PortPlan}). */
    public List<PortPlan.SharedPort> sharedPorts() {
        return ports;
    }

    /** The link {@code service} shares (mux on), if it has one; empty for a service with links of its own. */
    public Optional<SharedLink> sharedLink(String service) {
        return Optional.ofNullable(byService.get(service));
    }

    /** Every shared link, in the order of their first members' names. */
    public List<SharedLink> sharedLinks() {
        return links;
    }

    /** Whether the daemon owns the service's endpoint (an invalid scope counts as process: reported elsewhere). */
    static boolean isSystem(ServiceSettings s) {
        try {
            return ScopeSettings.of(s).isSystem();
        } catch (ConfigException e) {
            return false;
        }
    }

    private static ServicePlan build(Map<String, ServiceSettings> services, List<Path> files,
                                     List<ConfigException> problems) {
        Map<String, MuxSettings> mux = new TreeMap<>();
        for (ServiceSettings s : new TreeMap<>(services).values()) {
            try {
                MuxSettings m = MuxSettings.from(Settings.of(s));
                mux.put(s.name(), m);
                int bytes = s.name().getBytes(StandardCharsets.UTF_8).length;
                if (m.enabled() && m.routing() == MuxSettings.Routing.SERVICE && bytes > MAX_PREAMBLE_NAME) {
                    // Located at the switch: the merged mux block has no single file and line.
                    problems.add(Origins.error(Settings.of(s).origin("mux.enabled"), Settings.serviceKey(s.name()) + ".mux",
                            "service name '" + abbreviate(s.name()) + "' is " + bytes
                            + " bytes of UTF-8, but a mux stream's preamble carries at most " + MAX_PREAMBLE_NAME
                            + "; shorten the name, or set routing = none if it is the link's only service"));
                }
            } catch (ConfigException e) {
                problems.add(e);
            }
        }
        // Services by endpoint; each plain bind to port 0 gets a port of its own and shares nothing.
        Map<String, List<ServiceSettings>> byEndpoint = new TreeMap<>();
        for (ServiceSettings s : new TreeMap<>(services).values()) {
            MuxSettings m = mux.get(s.name());
            if (m == null) {
                continue; // reported above
            }
            boolean ephemeral = s.endpoint().address() instanceof TcpAddress tcp && tcp.port() == 0;
            if (ephemeral && !m.enabled() && !PortPlan.hasMatch(s)) {
                continue;
            }
            byEndpoint.computeIfAbsent(s.endpoint().toString(), k -> new ArrayList<>()).add(s);
        }
        Map<String, SharedLink> byService = new TreeMap<>();
        List<SharedLink> links = new ArrayList<>();
        List<PortPlan.SharedPort> ports = new ArrayList<>();
        for (List<ServiceSettings> sharing : byEndpoint.values()) {
            List<String> names = sharing.stream().map(ServiceSettings::name).toList();
            if (sharing.stream().anyMatch(PortPlan::hasMatch)) {
                // Shared by first bytes (match): PortPlan has the rules of such ports.
                PortPlan.SharedPort port = PortPlan.plan(sharing, files, problems);
                if (port != null) {
                    ports.add(port);
                }
                continue;
            }
            List<ServiceSettings> owned = sharing.stream().filter(s -> !isSystem(s)).toList();
            if (!owned.isEmpty() && owned.size() < sharing.size()) {
                ServiceSettings system = sharing.stream().filter(ServicePlan::isSystem).findFirst().orElseThrow();
                problems.add(Settings.of(system).error(ScopeSettings.SCOPE, "services " + String.join(", ", names)
                        + " all use endpoint " + system.endpoint() + ", but '" + system.name() + "' has scope = system"
                        + " and '" + owned.get(0).name() + "' scope = process; one link has one owner: give them all"
                        + " the same scope, or each its own endpoint"));
                continue;
            }
            boolean anyMux = false;
            boolean ok = true;
            for (ServiceSettings s : sharing) {
                if (mux.get(s.name()).enabled()) {
                    anyMux = true;
                } else if (sharing.size() > 1) {
                    ok = false;
                    problems.add(Origins.error(Settings.of(s).origin("endpoint"), Settings.serviceKey(s.name()) + ".mux",
                            "services " + String.join(", ", names) + " all use endpoint " + s.endpoint() + ", but '"
                                    + s.name() + "' has mux off; set mux = on for each of them to share one link, or "
                                    + "give each its own endpoint"));
                }
            }
            if (!anyMux || !ok) {
                continue;
            }
            ServiceSettings first = sharing.get(0);
            if (sharing.size() > 1 && mux.get(first.name()).routing() == MuxSettings.Routing.NONE) {
                problems.add(Settings.of(first).error("mux.routing", "services " + String.join(", ", names)
                        + " share endpoint " + first.endpoint() + " but routing = none carries a single service;"
                        + " use routing = service"));
                continue;
            }
            if (owned.isEmpty()) {
                // The daemon owns the link and runs its mux session; here each service is handed
                // its own streams, so nothing is shared in this runtime.
                continue;
            }
            SharedLink link = new SharedLink(first.endpoint(), names);
            links.add(link);
            names.forEach(n -> byService.put(n, link));
        }
        return new ServicePlan(byService, links, ports);
    }

    private static String abbreviate(String name) {
        return name.length() <= 40 ? name : name.substring(0, 32) + "...";
    }
}
