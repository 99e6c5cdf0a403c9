package io.mancom.core.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.mancom.EndPoint;
import io.mancom.core.spi.ConfigLayer;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The effective configuration and where each value came from: what {@code mancom config check}
 * prints. Build one with {@link #of(RuntimeSettings)}; render it with {@link #format()} or print
 * the rows your own way.
 *
 * <p>An immutable value; thread-safe. Building it reads nothing but the given settings.
 *
 * @param layers   every layer consulted, earliest first, present or not
 * @param globals  the values under {@code mancom} outside {@code services} and {@code defaults}
 *                 (such as {@code mancom.io-threads}), keys in full
 * @param services each service by name, with every leaf value of its block after the defaults
 *                 were applied
 */
public record ConfigReport(List<ConfigLayer> layers, List<Entry> globals, List<Service> services) {

    /** Where {@link #globals()} gets {@code io-threads} when the builder overrode the config. */
    public static final String BUILDER_SOURCE = "ManCom.Builder.ioThreads";

    public ConfigReport {
        layers = List.copyOf(layers);
        globals = List.copyOf(globals);
        services = List.copyOf(services);
    }

    /**
     * One value.
     *
     * @param key       its key: in full for {@link #globals()}, relative to the service block for a
     *                  {@link Service} (such as {@code write-buffer.high-water})
     * @param value     the value as HOCON would print it (strings unquoted)
     * @param source    where it was set: {@code reference.conf (defaults)},
     *                  {@code /etc/mancom/mancom.conf:12}, {@code system property -Dmancom.x},
     *                  {@code overrides}, {@code environment variable $X}
     * @param inherited whether the service takes it from {@code mancom.defaults} rather than setting
     *                  it in its own block
     */
    public record Entry(String key, String value, String source, boolean inherited) {
        public Entry {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            Objects.requireNonNull(source, "source");
        }
    }

    /**
     * One service.
     *
     * @param name     the service name
     * @param endpoint its parsed endpoint (printed in canonical form)
     * @param entries  every leaf value of its block with the defaults applied, sorted by key
     */
    public record Service(String name, EndPoint endpoint, List<Entry> entries) {
        public Service {
            entries = List.copyOf(entries);
        }
    }

    /** The report of a loaded configuration. */
    public static ConfigReport of(RuntimeSettings settings) {
        Config root = settings.config();
        List<Entry> globals = new ArrayList<>();
        if (root.hasPath("mancom")) {
            for (Map.Entry<String, ConfigValue> e : sorted(root.getConfig("mancom"))) {
                String key = "mancom." + e.getKey();
                if (key.startsWith(ConfigLoader.SERVICES + ".") || key.startsWith(ConfigLoader.DEFAULTS + ".")) {
                    continue;
                }
                if (key.equals("mancom.io-threads") && root.hasPath(key) && root.getInt(key) != settings.ioThreads()) {
                    globals.add(new Entry(key, String.valueOf(settings.ioThreads()), BUILDER_SOURCE, false));
                } else {
                    globals.add(entry(key, e.getValue(), false));
                }
            }
        }
        List<Service> services = new ArrayList<>();
        for (ServiceSettings s : settings.services().values()) {
            String prefix = Settings.serviceKey(s.name()) + ".";
            List<Entry> entries = new ArrayList<>();
            for (Map.Entry<String, ConfigValue> e : sorted(s.config())) {
                boolean inherited = !root.hasPathOrNull(prefix + e.getKey());
                String[] derived = LineRateBuffers.reportSource(s, e.getKey(), e.getValue().origin());
                entries.add(derived != null ? new Entry(e.getKey(), derived[0], derived[1], inherited)
                        : entry(e.getKey(), e.getValue(), inherited));
            }
            services.add(new Service(s.name(), s.endpoint(), entries));
        }
        return new ConfigReport(settings.layers(), globals, services);
    }

    private static Iterable<Map.Entry<String, ConfigValue>> sorted(Config c) {
        Map<String, ConfigValue> m = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : c.entrySet()) {
            m.put(e.getKey(), e.getValue());
        }
        return m.entrySet();
    }

    private static Entry entry(String key, ConfigValue v, boolean inherited) {
        String value = v.valueType() == ConfigValueType.STRING
                ? (String) v.unwrapped() : v.render(ConfigRenderOptions.concise());
        return new Entry(key, value, Origins.source(v.origin()), inherited);
    }

    /** Where a value came from, in the words of {@link Entry#source()}. */
    public static String source(ConfigOrigin origin) {
        return Origins.source(origin);
    }

    /**
     * A plain-text rendering: the layers with present/absent, the global values, then each service
     * with its endpoint and its values, each value followed by where it was set (and
     * {@code [default]} when a service takes it from {@code mancom.defaults} in a config file).
     */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append("Layers (later ones override earlier ones):\n");
        int width = 0;
        for (ConfigLayer l : layers) {
            width = Math.max(width, l.name().length());
        }
        for (ConfigLayer l : layers) {
            sb.append("  ").append(pad(l.name(), width)).append("  ").append(l.present() ? "present" : "absent")
                    .append('\n');
        }
        if (!globals.isEmpty()) {
            sb.append("\nSettings:\n");
            table(sb, globals);
        }
        for (Service s : services) {
            sb.append("\nService ").append(s.name()).append(": ").append(s.endpoint()).append('\n');
            table(sb, s.entries());
        }
        return sb.toString();
    }

    private static void table(StringBuilder sb, List<Entry> entries) {
        int width = 0;
        for (Entry e : entries) {
            width = Math.max(width, e.key().length() + 3 + e.value().length());
        }
        for (Entry e : entries) {
            sb.append("  ").append(pad(e.key() + " = " + e.value(), width)).append("  ").append(e.source());
            if (e.inherited() && !e.source().endsWith("(defaults)")) {
                sb.append(" [default]");
            }
            sb.append('\n');
        }
    }

    private static String pad(String s, int width) {
        return s.length() >= width ? s : s + " ".repeat(width - s.length());
    }
}
