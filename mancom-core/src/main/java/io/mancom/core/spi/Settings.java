package io.mancom.core.spi;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.mancom.ConfigException;
import io.mancom.core.internal.config.Origins;
import io.mancom.core.internal.config.Switches;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Typed, range-checked reads of one config block, with errors that say where the bad value is
 * (file and line), its full key, what was found and what is allowed.
 *
 * <pre>{@code
 * Settings tcp = Settings.of(service).block("tcp");
 * int backlog = tcp.getInt("backlog", 1, 65535);
 * boolean noDelay = tcp.getBoolean("no-delay");
 * Settings mux = Settings.of(service).switchBlock("mux");     // accepts mux = on as well
 * if (mux.getBoolean("enabled")) { ... }
 * }</pre>
 *
 * <h2>Blocks and their fallback</h2>
 * A Settings is a block as written (for example {@code mancom.services.echo}) plus, optionally, the
 * block it falls back to ({@code mancom.defaults}). Reads see the block with the fallback filled
 * in; an error names the key where the offending value is actually written, so a bad default is
 * reported as {@code mancom.defaults.connect-timeout}, not as the service's key.
 * {@link #of(ServiceSettings)} has no separate fallback (its config has the defaults merged in), so
 * its errors name the service's key and the location of the default;
 * {@link #of(RuntimeSettings, String)} keeps the two apart.
 *
 * <h2>Switch blocks</h2>
 * A block with an {@code enabled} key may be written as a bare switch: {@code mux = on} reads as
 * {@code mux { enabled = on }} with the rest of the block taken from the fallback
 * ({@link #switchBlock}). The loader already expands such shorthands for every block that has an
 * {@code enabled} key in {@code mancom.defaults}, so {@link ServiceSettings#config()} holds objects.
 *
 * <h2>Values</h2>
 * Values may be strings wherever HOCON allows it ({@code -Dmancom.x=on} arrives as the string
 * {@code "on"}): switches take on/off, true/false, yes/no; sizes take bytes or units
 * ({@code 64KiB}, {@code 16MiB}, {@code 1MB}); durations take units ({@code 100ms}, {@code 5s}) or
 * a number of milliseconds.
 *
 * <h2>Threading and errors</h2>
 * Immutable and thread-safe. Every read throws {@link ConfigException} when the value is missing,
 * of the wrong type or out of range; message form:
 * {@code found "soon" but expected a duration such as 100ms, 5s or 1m}, followed by
 * {@code (from system property -Dmancom...)} when the value has no file. Passing a malformed path
 * is a programming error ({@link IllegalArgumentException}).
 */
public final class Settings {
    /** The key of a switch block that a bare on/off stands for. */
    public static final String ENABLED = "enabled";
    /** The block every service falls back to. */
    public static final String DEFAULTS = "mancom.defaults";

    private static final String BOOLEAN = "on or off";
    private static final String DURATION = "a duration such as 100ms, 5s or 1m";
    private static final String SIZE = "a size such as 64KiB or 16MiB";

    private final Config own;
    private final String ownKey;
    private final Config fallback;
    private final String fallbackKey;
    private final Config merged;
    private final ConfigOrigin origin;

    private Settings(Config own, String ownKey, Config fallback, String fallbackKey, ConfigOrigin origin) {
        this.own = own;
        this.ownKey = ownKey;
        this.fallback = fallback;
        this.fallbackKey = fallbackKey;
        this.merged = own.withFallback(fallback);
        this.origin = origin;
    }

    /**
     * A block with no separate fallback.
     *
     * @param block the block's contents (resolved)
     * @param key   the block's full key, for messages, for example {@code mancom.services.echo}
     */
    public static Settings of(Config block, String key) {
        return of(block, key, ConfigFactory.empty(), key);
    }

    /**
     * A block that falls back to another one, as a service falls back to {@code mancom.defaults}.
     *
     * @param block       the block as written (resolved)
     * @param key         its full key, for example {@code mancom.services.echo}
     * @param fallback    what it falls back to (resolved)
     * @param fallbackKey the fallback's full key, for example {@code mancom.defaults}
     */
    public static Settings of(Config block, String key, Config fallback, String fallbackKey) {
        Objects.requireNonNull(block, "block");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(fallback, "fallback");
        Objects.requireNonNull(fallbackKey, "fallbackKey");
        // An empty block written in a file is reported there (an optional substitution may have
        // emptied it); one with no place of its own (made by the loader), at its fallback.
        ConfigOrigin origin = block.isEmpty() && !fallback.isEmpty() && Origins.file(block.origin()) == null
                ? fallback.origin() : block.origin();
        return new Settings(block, key, fallback, fallbackKey, origin);
    }

    /** A service's block with its defaults merged in ({@link ServiceSettings#config()}). */
    public static Settings of(ServiceSettings service) {
        return of(service.config(), serviceKey(service.name()));
    }

    /**
     * A service's block with {@code mancom.defaults} as its fallback, so that errors in inherited
     * values name the default's key.
     *
     * @throws IllegalArgumentException if the runtime has no such service
     */
    public static Settings of(RuntimeSettings runtime, String service) {
        if (!runtime.services().containsKey(service)) {
            throw new IllegalArgumentException("no service " + service + "; known: " + runtime.services().keySet());
        }
        Config root = runtime.config();
        String key = serviceKey(service);
        return of(root.getConfig(key), key, root.getConfig(DEFAULTS), DEFAULTS);
    }

    /** The full key of a service's block, {@code mancom.services.NAME} (quoted where the name needs it). */
    public static String serviceKey(String service) {
        return ConfigUtil.joinPath("mancom", "services", service);
    }

    /** The block's contents with the fallback filled in. */
    public Config config() {
        return merged;
    }

    /** The block's full key. */
    public String key() {
        return ownKey;
    }

    /**
     * The full key of {@code path} in this block: the block's key, or the fallback's when only the
     * fallback sets it.
     */
    public String key(String path) {
        boolean inherited = !own.hasPathOrNull(path) && fallback.hasPathOrNull(path);
        return (inherited ? fallbackKey : ownKey) + "." + path;
    }

    /** Whether {@code path} has a value that is not null. */
    public boolean hasPath(String path) {
        return merged.hasPath(path);
    }

    /**
     * The block at {@code path}.
     *
     * @throws ConfigException if the value there is missing or not an object
     */
    public Settings block(String path) {
        ConfigValue v = value(path, "a block { ... }");
        if (v.valueType() != ConfigValueType.OBJECT) {
            throw found(path, v, "a block { ... }");
        }
        return child(path, v, false);
    }

    /**
     * The block at {@code path}, which may also be written as a bare switch: {@code mux = on} reads
     * as {@code mux { enabled = on }}, the other keys coming from the fallback.
     *
     * @throws ConfigException if the value is missing, or neither a block nor on/off
     */
    public Settings switchBlock(String path) {
        String expected = "on, off or a block { " + ENABLED + " = on, ... }";
        ConfigValue v = value(path, expected);
        if (v.valueType() == ConfigValueType.OBJECT) {
            return child(path, v, true);
        }
        if (v.valueType() != ConfigValueType.BOOLEAN && v.valueType() != ConfigValueType.STRING) {
            throw found(path, v, expected);
        }
        read(path, expected, merged::getBoolean);
        return child(path, v, true);
    }

    private Settings child(String path, ConfigValue mergedValue, boolean switches) {
        Config ownChild = blockAt(own, path, switches);
        Config fallbackChild = blockAt(fallback, path, switches);
        String childKey = ownKey + "." + path;
        String childFallbackKey = fallbackKey + "." + path;
        if (ownChild.isEmpty() && !fallbackChild.isEmpty()) {
            childKey = childFallbackKey;
        }
        ConfigOrigin childOrigin = mergedValue.origin();
        return new Settings(ownChild, childKey, fallbackChild, childFallbackKey, childOrigin);
    }

    private static Config blockAt(Config c, String path, boolean switches) {
        if (!c.hasPath(path)) {
            return ConfigFactory.empty();
        }
        ConfigValue v = c.getValue(path);
        if (v.valueType() == ConfigValueType.OBJECT) {
            return ((ConfigObject) v).toConfig();
        }
        if (switches && (v.valueType() == ConfigValueType.BOOLEAN || v.valueType() == ConfigValueType.STRING)) {
            return Switches.expand(v).toConfig();
        }
        return ConfigFactory.empty();
    }

    /** A switch: on/off, true/false, yes/no. */
    public boolean getBoolean(String path) {
        return read(path, BOOLEAN, merged::getBoolean);
    }

    /** An integer from {@code min} to {@code max}. */
    public int getInt(String path, int min, int max) {
        return (int) getLong(path, min, max);
    }

    /** An integer from {@code min} to {@code max}. */
    public long getLong(String path, long min, long max) {
        String expected = "an integer" + range(min, max, Long.MIN_VALUE, Long.MAX_VALUE, x -> Long.toString(x));
        Number n = read(path, expected, merged::getNumber);
        if (!isIntegral(n)) {
            throw found(path, merged.getValue(path), expected);
        }
        BigInteger big = new BigDecimal(n.toString()).toBigIntegerExact();
        if (big.compareTo(BigInteger.valueOf(min)) < 0 || big.compareTo(BigInteger.valueOf(max)) > 0) {
            throw found(path, merged.getValue(path), expected);
        }
        return big.longValueExact();
    }

    private static boolean isIntegral(Number n) {
        if (n instanceof Integer || n instanceof Long || n instanceof BigInteger) {
            return true;
        }
        double d = n.doubleValue();
        return !Double.isInfinite(d) && !Double.isNaN(d) && d == Math.rint(d);
    }

    /**
     * A size in bytes from {@code min} to {@code max}: a number of bytes, or a number with a unit
     * ({@code 32KiB}, {@code 16MiB}, {@code 1MB} = 10<sup>6</sup>).
     */
    public long getBytes(String path, long min, long max) {
        String expected = withRange(SIZE, range(min, max, 0L, Long.MAX_VALUE, Origins::bytes));
        long n = read(path, expected, merged::getBytes);
        if (n < min || n > max) {
            throw found(path, merged.getValue(path), n + " bytes", expected);
        }
        return n;
    }

    /** As {@link #getBytes}, for sizes that must fit an {@code int}. */
    public int getIntBytes(String path, int min, int max) {
        return (int) getBytes(path, min, max);
    }

    /** A duration from {@code min} to {@code max} ({@code 100ms}, {@code 5s}; a bare number is milliseconds). */
    public Duration getDuration(String path, Duration min, Duration max) {
        String expected = withRange(DURATION, range(min, max, null, null, Origins::duration));
        Duration d = read(path, expected, merged::getDuration);
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw found(path, merged.getValue(path), expected);
        }
        return d;
    }

    /** A string; numbers and switches are taken as written. */
    public String getString(String path) {
        return read(path, "a string", merged::getString);
    }

    /**
     * A list of strings ({@code [a, b]}); numbers are taken as their text, so {@code users = [0]}
     * reads as "0".
     */
    public List<String> getStringList(String path) {
        return read(path, "a list of names such as [alice, 1000]", merged::getStringList);
    }

    /** A string that must be one of {@code allowed} (case-sensitive). */
    public String getEnum(String path, Collection<String> allowed) {
        String expected = "one of: " + String.join(", ", allowed);
        String s = read(path, expected, merged::getString);
        if (!allowed.contains(s)) {
            throw found(path, merged.getValue(path), expected);
        }
        return s;
    }

    /**
     * An enum constant, written in config as its name in lower case with {@code -} for {@code _}
     * ({@code RTS_CTS} is {@code rts-cts}).
     */
    public <E extends Enum<E>> E getEnum(String path, Class<E> type) {
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(configName(e));
        }
        String s = getEnum(path, names);
        return type.getEnumConstants()[names.indexOf(s)];
    }

    private static String configName(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * Checks that the block (and its fallback) has no key outside {@code allowed}; the typo
     * protection for blocks a module owns.
     *
     * @throws ConfigException for the first unknown key, with one suppressed exception for each
     *                         further one; message form:
     *                         {@code found unknown key "endpiont" but expected one of: ... (did you mean "endpoint"?)}
     */
    public void requireKnownKeys(Collection<String> allowed) {
        List<ConfigException> errors = unknownKeys(allowed);
        if (!errors.isEmpty()) {
            ConfigException first = errors.get(0);
            errors.subList(1, errors.size()).forEach(first::addSuppressed);
            throw first;
        }
    }

    /** The errors {@link #requireKnownKeys} would throw, in key order; for callers that collect every problem. */
    public List<ConfigException> unknownKeys(Collection<String> allowed) {
        return unknownKeys(allowed, true);
    }

    /**
     * As {@link #unknownKeys(Collection)}; without the fallback's keys when it is checked on its own
     * (the loader checks {@code mancom.defaults} once, not once per service).
     */
    public List<ConfigException> unknownKeys(Collection<String> allowed, boolean includeFallback) {
        List<ConfigException> errors = new ArrayList<>();
        TreeSet<String> sortedAllowed = new TreeSet<>(allowed);
        unknownKeys(own, ownKey, sortedAllowed, Set.of(), errors);
        if (includeFallback) {
            unknownKeys(fallback, fallbackKey, sortedAllowed, own.root().keySet(), errors);
        }
        return errors;
    }

    private static void unknownKeys(Config block, String blockKey, TreeSet<String> allowed, Set<String> shadowed,
                                    List<ConfigException> errors) {
        for (String k : new TreeSet<>(block.root().keySet())) {
            if (!allowed.contains(k) && !shadowed.contains(k)) {
                String hint = closest(k, allowed);
                errors.add(Origins.error(block.root().get(k).origin(), blockKey + "." + ConfigUtil.joinPath(k),
                        "found unknown key \"" + k + "\" but expected one of: " + String.join(", ", allowed)
                                + (hint == null ? "" : " (did you mean \"" + hint + "\"?)")));
            }
        }
    }

    /** The allowed word within edit distance 2 of {@code word}, if any; for "did you mean". */
    static String closest(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = 3;
        for (String c : candidates) {
            int d = distance(word, c);
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int subst = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(subst, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /**
     * An error about the value at {@code path} (or about the block, when there is none), located
     * where that value is written; for checks the typed reads cannot make, such as one value
     * bounding another.
     *
     * @param message what is wrong and what is allowed
     */
    public ConfigException error(String path, String message) {
        ConfigValue v = peek(path);
        ConfigOrigin at = v != null ? v.origin() : origin;
        return Origins.error(at, key(path), message);
    }

    /** Where {@code path}'s value is written, or the block's origin if it has none. */
    public ConfigOrigin origin(String path) {
        ConfigValue v = peek(path);
        return v != null ? v.origin() : origin;
    }

    /** Whether {@code path} is set in the block itself rather than inherited from the fallback. */
    public boolean isOwn(String path) {
        return own.hasPathOrNull(path);
    }

    private <T> T read(String path, String expected, Function<String, T> getter) {
        ConfigValue v = value(path, expected);
        try {
            return getter.apply(path);
        } catch (com.typesafe.config.ConfigException.WrongType | com.typesafe.config.ConfigException.BadValue e) {
            throw found(path, v, expected);
        } catch (com.typesafe.config.ConfigException.BadPath e) {
            throw new IllegalArgumentException("not a config path: " + path, e);
        } catch (com.typesafe.config.ConfigException e) {
            throw Origins.translate(e, key(path), "");
        }
    }

    private ConfigValue value(String path, String expected) {
        ConfigValue v = peek(path);
        if (v == null) {
            throw Origins.error(origin, key(path), "found no value but expected " + expected);
        }
        if (v.valueType() == ConfigValueType.NULL) {
            throw Origins.error(v.origin(), key(path), "found null but expected " + expected);
        }
        return v;
    }

    /** The value at {@code path} (possibly a null value), or null if absent. */
    private ConfigValue peek(String path) {
        List<String> parts;
        try {
            parts = ConfigUtil.splitPath(path);
        } catch (com.typesafe.config.ConfigException e) {
            throw new IllegalArgumentException("not a config path: " + path, e);
        }
        ConfigObject obj = merged.root();
        StringBuilder walked = new StringBuilder();
        for (int i = 0; i < parts.size() - 1; i++) {
            ConfigValue v = obj.get(parts.get(i));
            walked.append(i == 0 ? "" : ".").append(ConfigUtil.joinPath(parts.get(i)));
            if (v == null || v.valueType() == ConfigValueType.NULL) {
                return null;
            }
            if (v.valueType() != ConfigValueType.OBJECT) {
                throw found(walked.toString(), v, "a block { ... }");
            }
            obj = (ConfigObject) v;
        }
        return obj.get(parts.get(parts.size() - 1));
    }

    private ConfigException found(String path, ConfigValue v, String expected) {
        return Origins.error(v.origin(), key(path), "found " + Origins.show(v) + " but expected " + expected);
    }

    private ConfigException found(String path, ConfigValue v, String meaning, String expected) {
        return Origins.error(v.origin(), key(path),
                "found " + Origins.show(v) + " (" + meaning + ") but expected " + expected);
    }

    /** "a size such as 64KiB, from 1 byte to 1MiB": the comma keeps the examples apart from the bounds. */
    private static String withRange(String what, String range) {
        return range.isEmpty() ? what : what + "," + range;
    }

    private static <T> String range(T min, T max, T unboundedMin, T unboundedMax, Function<T, String> show) {
        boolean hasMin = min != null && !min.equals(unboundedMin);
        boolean hasMax = max != null && !max.equals(unboundedMax);
        if (hasMin && hasMax) {
            return " from " + show.apply(min) + " to " + show.apply(max);
        }
        if (hasMin) {
            return " of at least " + show.apply(min);
        }
        if (hasMax) {
            return " of at most " + show.apply(max);
        }
        return "";
    }
}
