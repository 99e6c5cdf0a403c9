package io.mancom.core.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.core.spi.ConfigLayer;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Turns the merged, resolved configuration into {@link RuntimeSettings}, collecting every problem
 * it finds. One instance per load; not thread-safe.
 *
 * <p>The schema comes from the {@code reference.conf} files, not from this class: which keys may
 * appear under {@code mancom}, in {@code mancom.defaults} and in a service. This class only knows
 * the types and bounds of the values mancom-core itself uses.
 */
final class Validator {
    static final List<String> HANDLERS = List.of("echo", "discard", "forward", "http-proxy", "tunnel");
    static final int MAX_IO_THREADS = 1024;
    static final Pattern SERVICE_NAME = Pattern.compile("[A-Za-z0-9_.-]+");

    private static final Duration MIN_DELAY = Duration.ofMillis(1);
    private static final Duration MAX_TIMEOUT = Duration.ofDays(1);
    private static final Duration MAX_INITIAL_DELAY = Duration.ofHours(1);

    private final Config reference;
    private final Set<String> switchKeys;
    /** Deduplicated by message: a bad default is found once for the defaults and once per service. */
    private final Map<String, ConfigException> errors = new LinkedHashMap<>();
    /** Problems found, counting duplicates: tells a reader whether its part was valid. */
    private int failures;

    private Validator(Config reference) {
        this.reference = reference;
        ConfigObject defaults = object(reference, "mancom", "defaults");
        this.switchKeys = defaults == null ? Set.of() : Switches.keys(defaults);
    }

    /** @param found problems found while reading the layers, reported with the others */
    static RuntimeSettings validate(Config config, Config reference, List<ConfigLayer> layers, int ioThreadsOverride,
                                    List<ConfigException> found) {
        Validator v = new Validator(reference);
        found.forEach(v::add);
        return v.run(config, layers, ioThreadsOverride);
    }

    private RuntimeSettings run(Config config, List<ConfigLayer> layers, int ioThreadsOverride) {
        ConfigValue mancomValue = config.root().get("mancom");
        if (mancomValue == null || mancomValue.valueType() != ConfigValueType.OBJECT) {
            ConfigOrigin at = mancomValue != null ? mancomValue.origin() : config.origin();
            throw Origins.error(at, "mancom", "found " + (mancomValue == null ? "no value" : Origins.show(mancomValue))
                    + " but expected a block mancom { ... }");
        }
        Settings mancom = Settings.of(((ConfigObject) mancomValue).toConfig(), "mancom");
        collect(() -> mancom.unknownKeys(keys(reference, "mancom")));
        Integer ioThreads = attempt(() -> mancom.getInt("io-threads", 0, MAX_IO_THREADS));
        ControlSettings control = attempt(() -> ControlSettings.read(mancom, reference)); // runtime-dir, control
        if (control != null) {
            attempt(() -> DaemonSettings.read(mancom, reference, control.runtimeDir())); // daemon.socket
        }
        attempt(() -> MetricsSettings.read(mancom, reference)); // metrics.listen

        Settings defaults = attempt(() -> mancom.block("defaults"));
        SortedMap<String, ServiceSettings> services = new TreeMap<>();
        if (defaults != null) {
            Set<String> defaultKeys = keys(reference, "mancom", "defaults");
            collect(() -> defaults.unknownKeys(defaultKeys));
            common(defaults);
            Set<String> serviceKeys = new TreeSet<>(defaultKeys);
            serviceKeys.add("endpoint");
            services(mancom, defaults.config(), serviceKeys, services);
            // The rules across services, by the code the runtime plans its links with, so that a
            // file this accepts also starts.
            collect(() -> ServicePlan.problems(services, layers));
            collect(() -> TunnelSettings.problems(services));
        }
        if (!errors.isEmpty()) {
            List<ConfigException> all = new ArrayList<>(errors.values());
            ConfigException first = all.get(0);
            all.subList(1, all.size()).forEach(first::addSuppressed);
            throw first;
        }
        int threads = ioThreadsOverride > 0 ? ioThreadsOverride : ioThreads;
        return new RuntimeSettings(threads, Collections.unmodifiableSortedMap(services), layers, config);
    }

    private void services(Settings mancom, Config defaults, Set<String> serviceKeys,
                          Map<String, ServiceSettings> into) {
        ConfigValue value = mancom.config().root().get("services");
        if (value == null || value.valueType() == ConfigValueType.NULL) {
            return;
        }
        if (value.valueType() != ConfigValueType.OBJECT) {
            add(Origins.error(value.origin(), ConfigLoader.SERVICES, "found " + Origins.show(value)
                    + " but expected a block with one entry per service, such as"
                    + " services { echo { endpoint = \"tcp://0.0.0.0:7000\" } }"));
            return;
        }
        ConfigObject all = (ConfigObject) value;
        for (String name : new TreeSet<>(all.keySet())) {
            ConfigValue entry = all.get(name);
            String key = Settings.serviceKey(name);
            if (entry.valueType() == ConfigValueType.NULL) {
                continue;
            }
            if (!SERVICE_NAME.matcher(name).matches()) {
                // Quoted with escapes: a name may hold a newline ("a\nb"), and the message is one line.
                add(Origins.error(entry.origin(), key, "found service name " + ConfigUtil.quoteString(name)
                        + " but expected a name of letters, digits, '_', '.' and '-' only"));
                continue;
            }
            if (entry.valueType() != ConfigValueType.OBJECT) {
                add(Origins.error(entry.origin(), key, "found " + Origins.show(entry) + " but expected a block such as "
                        + name + " { endpoint = \"tcp://0.0.0.0:7000\" }"));
                continue;
            }
            Settings s = Settings.of(((ConfigObject) entry).toConfig(), key, defaults, ConfigLoader.DEFAULTS);
            ServiceSettings service = service(name, s, serviceKeys);
            if (service != null) {
                into.put(name, service);
            }
        }
    }

    private ServiceSettings service(String name, Settings s, Set<String> serviceKeys) {
        int before = failures;
        collect(() -> s.unknownKeys(serviceKeys, false));
        EndPoint endpoint = attempt(() -> endpoint(s));
        Common c = common(s, endpoint);
        attempt(() -> io.mancom.core.internal.tls.TlsSettings.from(s, endpoint)); // files read, key checked
        attempt(() -> ForwardSettings.read(s)); // handler = forward: forward's endpoint
        attempt(() -> TunnelSettings.read(s, name)); // handler = tunnel: via
        if (failures != before || endpoint == null || c == null) {
            return null;
        }
        return new ServiceSettings(name, endpoint, c.handler, c.connectTimeout, c.writeBuffer, c.blocking, c.reconnect,
                s.config());
    }

    private static EndPoint endpoint(Settings s) {
        if (!s.hasPath("endpoint")) {
            throw s.error("endpoint", "found no endpoint but expected one, such as endpoint = \"tcp://0.0.0.0:7000\","
                    + " \"serial:///dev/ttyUSB0?baud=115200\" or \"usb://16c0:05dc\"");
        }
        String uri = s.getString("endpoint");
        try {
            return EndPoint.parse(uri);
        } catch (IllegalArgumentException e) {
            // Line breaks in the URI (a "\n" in the HOCON string) are escaped by ConfigException.
            throw s.error("endpoint", "found \"" + uri + "\" but expected an endpoint URI: " + e.getMessage());
        }
    }

    private record Common(String handler, Duration connectTimeout, ServiceSettings.WriteBuffer writeBuffer,
                          ServiceSettings.Blocking blocking, ServiceSettings.Reconnect reconnect) {
    }

    /** The values every service shares with the defaults; null if any is invalid (recorded). */
    private Common common(Settings s) {
        return common(s, null);
    }

    /** As {@link #common(Settings)}; a serial {@code endpoint}'s unset buffers follow its line rate ({@link LineRateBuffers}). */
    private Common common(Settings s, EndPoint endpoint) {
        int before = failures;
        String handler = attempt(() -> s.getEnum("handler", HANDLERS));
        Duration connectTimeout = attempt(() -> s.getDuration("connect-timeout", MIN_DELAY, MAX_TIMEOUT));
        ServiceSettings.WriteBuffer writeBuffer = block(s, "write-buffer", b -> writeBuffer(b, endpoint));
        ServiceSettings.Blocking blocking = block(s, "blocking", b -> LineRateBuffers.blocking(endpoint, b, blocking(b)));
        ServiceSettings.Reconnect reconnect = block(s, "reconnect", this::reconnect);
        attempt(() -> Framing.from(s));
        attempt(() -> io.mancom.core.internal.link.LinkSettings.from(s));
        block(s, "allow", b -> b);
        block(s, "hold", b -> b);
        attempt(() -> ScopeSettings.from(s));
        attempt(() -> {
            io.mancom.core.spi.TcpSettings.checkAtLoad(s); // tcp: limits, timeouts, allow/deny
            return null;
        });
        if (failures != before) {
            return null;
        }
        return new Common(handler, connectTimeout, writeBuffer, blocking, reconnect);
    }

    private <T> T block(Settings parent, String name, java.util.function.Function<Settings, T> reader) {
        Settings b = attempt(() -> switchKeys.contains(name) ? parent.switchBlock(name) : parent.block(name));
        if (b == null) {
            return null;
        }
        collect(() -> b.unknownKeys(keys(reference, "mancom", "defaults", name), false));
        return reader.apply(b);
    }

    private ServiceSettings.WriteBuffer writeBuffer(Settings b, EndPoint endpoint) {
        Integer low = attempt(() -> LineRateBuffers.lowWater(endpoint, b, b.getIntBytes("low-water", 0, SizeLimits.MAX_WRITE_BUFFER)));
        Integer high = attempt(() -> LineRateBuffers.highWater(endpoint, b, b.getIntBytes("high-water", 1, SizeLimits.MAX_WRITE_BUFFER)));
        Long max = attempt(() -> b.getBytes("max-pending", 1, SizeLimits.MAX_WRITE_BUFFER));
        if (low == null || high == null || max == null) {
            return null;
        }
        boolean ok = ordered(b, "low-water", (long) low, "high-water", (long) high, Origins::bytes);
        ok &= ordered(b, "high-water", (long) high, "max-pending", max, Origins::bytes);
        return ok ? new ServiceSettings.WriteBuffer(low, high, max) : null;
    }

    private ServiceSettings.Blocking blocking(Settings b) {
        Integer readBuffer = attempt(() -> b.getIntBytes("read-buffer", 1, SizeLimits.MAX_BLOCKING_READ_BUFFER));
        Integer backlog = attempt(() -> b.getInt("accept-backlog", 1, 65535));
        return readBuffer == null || backlog == null ? null : new ServiceSettings.Blocking(readBuffer, backlog);
    }

    private ServiceSettings.Reconnect reconnect(Settings b) {
        Boolean enabled = attempt(() -> b.getBoolean("enabled"));
        Duration initial = attempt(() -> b.getDuration("initial-delay", MIN_DELAY, MAX_INITIAL_DELAY));
        Duration max = attempt(() -> b.getDuration("max-delay", MIN_DELAY, MAX_TIMEOUT));
        if (enabled == null || initial == null || max == null
                || !ordered(b, "initial-delay", initial, "max-delay", max, Origins::duration)) {
            return null;
        }
        return new ServiceSettings.Reconnect(enabled, initial, max);
    }

    /**
     * Checks {@code small <= large}. The error goes to whichever of the two the user most likely
     * just changed: one written in this block rather than inherited, else one not from a
     * reference.conf; the message names the other value and where it is set.
     */
    private <T extends Comparable<? super T>> boolean ordered(Settings b, String smallKey, T small, String largeKey,
                                                            T large, java.util.function.Function<T, String> show) {
        if (small.compareTo(large) <= 0) {
            return true;
        }
        boolean blameLarge = blameSecond(b, smallKey, largeKey);
        if (blameLarge) {
            add(b.error(largeKey, "found " + show.apply(large) + " but expected at least " + smallKey + ", which is "
                    + show.apply(small) + " (" + Origins.source(b.origin(smallKey)) + ")"));
        } else {
            add(b.error(smallKey, "found " + show.apply(small) + " but expected at most " + largeKey + ", which is "
                    + show.apply(large) + " (" + Origins.source(b.origin(largeKey)) + ")"));
        }
        return false;
    }

    private static boolean blameSecond(Settings b, String first, String second) {
        if (b.isOwn(first) != b.isOwn(second)) {
            return b.isOwn(second);
        }
        boolean firstIsDefault = b.origin(first).resource() != null;
        boolean secondIsDefault = b.origin(second).resource() != null;
        return firstIsDefault && !secondIsDefault;
    }

    /** The keys of the object at {@code path} in {@code c}, or none. */
    static Set<String> keys(Config c, String... path) {
        ConfigObject o = object(c, path);
        return o == null ? Set.of() : new TreeSet<>(o.keySet());
    }

    /** The object at {@code path} in {@code c} (which need not be resolved), or null. */
    static ConfigObject object(Config c, String... path) {
        ConfigObject o = c.root();
        for (String p : path) {
            ConfigValue v = o.get(p);
            if (!(v instanceof ConfigObject)) {
                return null;
            }
            o = (ConfigObject) v;
        }
        return o;
    }

    private <T> T attempt(Supplier<T> read) {
        try {
            return read.get();
        } catch (ConfigException e) {
            add(e);
            return null;
        }
    }

    private void collect(Supplier<List<ConfigException>> check) {
        check.get().forEach(this::add);
    }

    private void add(ConfigException e) {
        failures++;
        errors.putIfAbsent(e.getMessage(), e);
    }
}
