package io.mancom.core.internal.config;

import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;
import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.TransportType;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * The rules of TCP ports that several services share by their first bytes ({@code match}, {@code
 * sniff}; docs/port-sharing.md): which services share one port, in which order their rules are
 * tried, and the checks {@link ServicePlan} runs for them, so that {@code mancom config check} and
 * the runtime agree. Stateless.
 *
 * <p>The rules: a service with a {@code match} has {@code mux = off} and a {@code tcp://} endpoint;
 * every service on such an endpoint has a {@code match}; no rule comes after one that matches all it
 * could ({@code any}, a duplicate, a shorter prefix, a wider tls rule); one fallback per port;
 * {@code sniff.on-timeout} names a service of the port; the {@code sniff} values written for the
 * services of a port agree. Rules are tried in config order: by layer (reference.conf, then the
 * files in the order they are loaded, then properties and overrides), then by line.
 */
public final class PortPlan {
    /** The {@code sniff} block. */
    public static final String SNIFF = "sniff";
    static final long MIN_SNIFF_BYTES = 64;
    static final long MAX_SNIFF_BYTES = 1 << 20;

    private PortPlan() {
    }

    /**
     * How a shared port looks at a new connection.
     *
     * @param maxBytes  {@code sniff.max-bytes}: the most bytes read before deciding
     * @param timeout   {@code sniff.timeout}: the longest wait for a decision
     * @param onTimeout {@code sniff.on-timeout}: the service a client that sent nothing within
     *                  the timeout goes to (a protocol whose server speaks first), or null
     */
    public record Sniff(int maxBytes, Duration timeout, String onTimeout) {
    }

    /**
     * Services that share one TCP port by their first bytes.
     *
     * @param endpoint the port's endpoint
     * @param members  the services in the order their rules are tried
     * @param rules    their rules, in the same order
     * @param sniff    the port's sniff settings
     */
    public record SharedPort(EndPoint endpoint, List<String> members, List<MatchRule> rules, Sniff sniff) {
        public SharedPort {
            members = List.copyOf(members);
            rules = List.copyOf(rules);
        }
    }

    /** Whether the service has a {@code match} (a malformed one counts: it is reported by {@link #plan}). */
    static boolean hasMatch(ServiceSettings s) {
        try {
            return MatchRule.read(Settings.of(s)) != null;
        } catch (ConfigException e) {
            return true;
        }
    }

    /**
     * The port of {@code sharing} (the services of one endpoint, at least one with a match), or
     * null when a rule is broken (the problems are added).
     *
     * @param files the config files in load order (for ordering rules across files; may be empty)
     */
    static SharedPort plan(List<ServiceSettings> sharing, List<Path> files, List<ConfigException> problems) {
        int before = problems.size();
        List<String> names = sharing.stream().map(ServiceSettings::name).toList();
        List<ServiceSettings> members = new ArrayList<>();
        List<MatchRule> rules = new ArrayList<>();
        for (ServiceSettings s : sharing) {
            Settings settings = Settings.of(s);
            MatchRule rule;
            try {
                rule = MatchRule.read(settings);
            } catch (ConfigException e) {
                problems.add(e);
                continue;
            }
            if (rule == null) {
                problems.add(Origins.error(settings.origin("endpoint"), settings.key("endpoint"), "services "
                        + String.join(", ", names) + " share endpoint " + s.endpoint() + ", but '" + s.name()
                        + "' has no match; give each a match (http1, http2, tls { ... }, prefix = \"...\", any for the"
                        + " fallback) or give it an endpoint of its own"));
                continue;
            }
            if (s.endpoint().type() != TransportType.TCP) {
                problems.add(Origins.error(rule.origin(), settings.key(MatchRule.KEY), "found a match on "
                        + s.endpoint() + " but ports are shared by their first bytes on tcp:// endpoints only"));
                continue;
            }
            if (ServicePlan.isSystem(s)) {
                problems.add(Origins.error(rule.origin(), settings.key(MatchRule.KEY), "'" + s.name() + "' has scope ="
                        + " system and a match; the daemon does not share ports by match yet: use scope = process"));
                continue;
            }
            if (settings.getBoolean("mux.enabled")) {
                problems.add(Origins.error(rule.origin(), settings.key(MatchRule.KEY), "'" + s.name() + "' has mux = on"
                        + " and a match; a port shared by match carries each connection to one service as it is: set"
                        + " mux = off (a service with match = mux takes the mux sessions)"));
                continue;
            }
            members.add(s);
            rules.add(rule);
        }
        if (problems.size() != before) {
            return null;
        }
        Comparator<Integer> order = Comparator.comparing((Integer i) -> rank(rules.get(i).origin(), files))
                .thenComparing(i -> Objects.toString(Origins.file(rules.get(i).origin()), ""))
                .thenComparingInt(i -> rules.get(i).origin().lineNumber())
                .thenComparing(i -> members.get(i).name());
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            idx.add(i);
        }
        idx.sort(order);
        List<ServiceSettings> sorted = idx.stream().map(members::get).toList();
        List<MatchRule> sortedRules = idx.stream().map(rules::get).toList();
        for (int i = 1; i < sortedRules.size(); i++) {
            MatchRule r = sortedRules.get(i);
            for (int j = 0; j < i; j++) {
                MatchRule e = sortedRules.get(j);
                if (!r.shadowedBy(e)) {
                    continue;
                }
                String what = r.kind() == MatchRule.Kind.ANY && e.kind() == MatchRule.Kind.ANY
                        ? "a second fallback (match = any) on " + sorted.get(i).endpoint() + ": '" + sorted.get(j).name()
                          + "' (" + Origins.source(e.origin()) + ") is the port's fallback already; keep one"
                        : "'" + sorted.get(i).name() + "' can never be chosen: its match " + r.describe() + " comes after '"
                          + sorted.get(j).name() + "' (" + Origins.source(e.origin()) + ") whose match " + e.describe()
                          + " takes every connection it would; move it before, or remove it";
                problems.add(Origins.error(r.origin(), Settings.serviceKey(sorted.get(i).name()) + "." + MatchRule.KEY, what));
                break;
            }
        }
        Sniff sniff = sniff(sorted, names, problems);
        if (problems.size() != before || sniff == null) {
            return null;
        }
        return new SharedPort(sorted.get(0).endpoint(), sorted.stream().map(ServiceSettings::name).toList(),
                sortedRules, sniff);
    }

    /** The port's sniff settings: the values written by its services (they must agree), else the defaults. */
    private static Sniff sniff(List<ServiceSettings> sorted, List<String> names, List<ConfigException> problems) {
        Integer maxBytes = null;
        Duration timeout = null;
        String onTimeout = null;
        Settings setBy = null;
        for (ServiceSettings s : sorted) {
            Settings b;
            int mb;
            Duration t;
            String ot;
            try {
                b = Settings.of(s).block(SNIFF);
                b.requireKnownKeys(List.of("max-bytes", "timeout", "on-timeout"));
                mb = b.getIntBytes("max-bytes", (int) MIN_SNIFF_BYTES, (int) MAX_SNIFF_BYTES);
                t = b.getDuration("timeout", Duration.ofMillis(10), Duration.ofMinutes(10));
                ot = b.getString("on-timeout").trim();
            } catch (ConfigException e) {
                problems.add(e);
                return null;
            }
            if (maxBytes == null) {
                maxBytes = mb;
                timeout = t;
                onTimeout = ot;
                setBy = b;
                continue;
            }
            for (String k : List.of("max-bytes", "timeout", "on-timeout")) {
                Object mine = k.equals("max-bytes") ? mb : k.equals("timeout") ? t : ot;
                Object first = k.equals("max-bytes") ? maxBytes : k.equals("timeout") ? timeout : onTimeout;
                if (mine.equals(first)) {
                    continue;
                }
                boolean mineWritten = written(b, k);
                boolean firstWritten = written(setBy, k);
                if (mineWritten && firstWritten) {
                    problems.add(b.error(k, "found " + show(mine) + " but '" + sorted.get(0).name() + "', which shares"
                            + " the port, has " + show(first) + " (" + Origins.source(setBy.origin(k)) + "); a port has one"
                            + " sniff." + k + ": set the same value, or set it once in mancom.defaults"));
                    return null;
                }
                if (mineWritten) {
                    switch (k) {
                        case "max-bytes" -> maxBytes = mb;
                        case "timeout" -> timeout = t;
                        default -> onTimeout = ot;
                    }
                }
            }
        }
        if (!onTimeout.isEmpty() && !names.contains(onTimeout)) {
            ConfigException e = null;
            for (ServiceSettings s : sorted) {
                Settings b = Settings.of(s).block(SNIFF);
                if (b.getString("on-timeout").trim().equals(onTimeout)) {
                    e = b.error("on-timeout", "found \"" + onTimeout + "\" but expected a service of this port: "
                            + String.join(", ", names));
                    break;
                }
            }
            problems.add(e);
            return null;
        }
        return new Sniff(maxBytes, timeout, onTimeout.isEmpty() ? null : onTimeout);
    }

    private static String show(Object v) {
        return v instanceof Duration d ? Origins.duration(d) : v instanceof Integer n ? Origins.bytes(n)
                : "\"" + v + "\"";
    }

    /** Whether {@code key} of the block is written by a user (not a reference.conf default). */
    private static boolean written(Settings b, String key) {
        ConfigValue v = b.config().getValue(key);
        return v.origin().resource() == null;
    }

    /** 0 for reference.conf, 1 + the index for a config file, after all files for the rest. */
    private static int rank(ConfigOrigin origin, List<Path> files) {
        if (origin.resource() != null) {
            return 0;
        }
        if (origin.filename() != null) {
            Path p = Path.of(origin.filename()).toAbsolutePath().normalize();
            for (int i = 0; i < files.size(); i++) {
                if (files.get(i).toAbsolutePath().normalize().equals(p)) {
                    return 1 + i;
                }
            }
            return 1 + files.size();
        }
        return 2 + files.size();
    }
}
