package io.mancom.core.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import com.typesafe.config.parser.ConfigDocument;
import io.mancom.ConfigException;
import io.mancom.core.spi.Settings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The switch shorthand: {@code mux = on} means {@code mux { enabled = on }} for every block that
 * has an {@code enabled} key in the reference {@code mancom.defaults}. Stateless. Internal: public
 * only for {@link io.mancom.core.spi.Settings#switchBlock}.
 *
 * <p>Expansion happens in each layer before the layers are merged: merged as written, a later
 * {@code mux = on} would hide an earlier {@code mux { window = 1MiB }} entirely (a plain value
 * replaces an object), and a later {@code mux { window = 1MiB }} would silently drop an earlier
 * {@code mux = on}.
 *
 * <p>Within one file HOCON itself drops a switch that a later object at the same path replaces:
 * {@code mux = on} followed by {@code mux.max-streams = 8} parses as {@code mux { max-streams = 8 }}.
 * {@link #keepShadowed} finds such a switch in the file's text and keeps it as the block's
 * {@code enabled}, which is what the user meant; a switch written after keys of its block (whose
 * values HOCON has dropped) is an error naming the file, line and key.
 */
public final class Switches {

    private Switches() {
    }

    /** {@code { enabled = flag }}, located where the flag is written. */
    public static ConfigObject expand(ConfigValue flag) {
        return flag.atKey(Settings.ENABLED).root().withOrigin(flag.origin());
    }

    /** The keys of {@code mancom.defaults} (in the reference) whose block has an {@code enabled} key. */
    static Set<String> keys(ConfigObject referenceDefaults) {
        Set<String> keys = new TreeSet<>();
        for (Map.Entry<String, ConfigValue> e : referenceDefaults.entrySet()) {
            if (e.getValue() instanceof ConfigObject && ((ConfigObject) e.getValue()).containsKey(Settings.ENABLED)) {
                keys.add(e.getKey());
            }
        }
        return keys;
    }

    /**
     * Blocks that may be written as a word, and what each word means: {@code framing = lines} is
     * {@code framing { lines = on }}. Expanded per layer like the switches, so a later
     * {@code framing = lines} keeps an earlier {@code framing { max-length = 64KiB }}.
     */
    static final Map<String, Map<String, Map<String, Object>>> WORDS = Map.of("framing", Map.of(
            "lines", Map.of("lines", true, "length-field", 0),
            "none", Map.of("lines", false, "length-field", 0),
            "off", Map.of("lines", false, "length-field", 0)),
            "link", Map.of("reliable", Map.of("mode", "reliable"), "plain", Map.of("mode", "plain")));

    /** The block a word stands for, located where the word is written; null if it is not one. */
    private static ConfigObject word(String key, ConfigValue v) {
        Map<String, Map<String, Object>> words = WORDS.get(key);
        if (words == null || v == null) {
            return null;
        }
        try {
            if (v.valueType() != ConfigValueType.STRING) {
                return null;
            }
        } catch (com.typesafe.config.ConfigException.NotResolved e) {
            return null;
        }
        Map<String, Object> meaning = words.get(((String) v.unwrapped()).trim().toLowerCase(java.util.Locale.ROOT));
        return meaning == null ? null
                : com.typesafe.config.ConfigValueFactory.fromMap(meaning, v.origin().description()).withOrigin(v.origin());
    }

    /**
     * Expands the shorthands in {@code mancom.defaults} and in each service of one layer (or of the
     * merged result). Values that are not resolved yet are left alone.
     *
     * @param defaultsFallback what an expanded default falls back to (given the key), or null
     */
    static Config expandLayer(Config layer, Set<String> keys, Function<String, ConfigObject> defaultsFallback) {
        ConfigObject mancom = object(layer.root(), "mancom");
        if (mancom == null) {
            return layer;
        }
        Config result = expandWords(layer, mancom, defaultsFallback);
        ConfigObject defaults = object(mancom, "defaults");
        if (defaults != null) {
            for (String k : keys) {
                ConfigValue v = valueOf(defaults, k);
                if (isFlag(v)) {
                    ConfigObject expanded = expand(v);
                    ConfigObject fallback = defaultsFallback == null ? null : defaultsFallback.apply(k);
                    if (fallback != null) {
                        expanded = expanded.withFallback(fallback).withOrigin(v.origin());
                    }
                    result = result.withValue(ConfigUtil.joinPath("mancom", "defaults", k), expanded);
                }
            }
        }
        ConfigObject services = object(mancom, "services");
        for (String name : serviceNames(services)) {
            ConfigObject service = object(services, name);
            if (service == null) {
                continue;
            }
            for (String k : keys) {
                ConfigValue v = valueOf(service, k);
                if (isFlag(v)) {
                    result = result.withValue(ConfigUtil.joinPath("mancom", "services", name, k), expand(v));
                }
            }
        }
        return result;
    }

    private static Config expandWords(Config layer, ConfigObject mancom, Function<String, ConfigObject> defaultsFallback) {
        Config result = layer;
        ConfigObject defaults = object(mancom, "defaults");
        ConfigObject services = object(mancom, "services");
        for (String k : WORDS.keySet()) {
            ConfigObject d = defaults == null ? null : word(k, valueOf(defaults, k));
            if (d != null) {
                ConfigObject fallback = defaultsFallback == null ? null : defaultsFallback.apply(k);
                result = result.withValue(ConfigUtil.joinPath("mancom", "defaults", k),
                        fallback == null ? d : d.withFallback(fallback).withOrigin(d.origin()));
            }
            for (String name : serviceNames(services)) {
                ConfigObject service = object(services, name);
                ConfigObject w = service == null ? null : word(k, valueOf(service, k));
                if (w != null) {
                    result = result.withValue(ConfigUtil.joinPath("mancom", "services", name, k), w);
                }
            }
        }
        return result;
    }

    private static ConfigObject object(ConfigObject parent, String key) {
        ConfigValue v = valueOf(parent, key);
        try {
            return v instanceof ConfigObject && v.valueType() == ConfigValueType.OBJECT ? (ConfigObject) v : null;
        } catch (com.typesafe.config.ConfigException.NotResolved e) {
            return null;
        }
    }

    /**
     * {@code parent}'s value at {@code key}; null if there is none or if {@code parent} is a merge
     * that waits for a substitution (an object whose keys are known only once resolved, such as a
     * service set to {@code null} and then given a key from {@code ${?UNSET}}): such a block is
     * expanded and validated once resolved, as one that comes from a substitution already is.
     */
    private static ConfigValue valueOf(ConfigObject parent, String key) {
        try {
            return parent.get(key);
        } catch (com.typesafe.config.ConfigException.NotResolved e) {
            return null;
        }
    }

    /**
     * The names in a layer's {@code services} block; none while it is a merge that waits for a
     * substitution (its keys are known only once resolved: the validator checks them then).
     */
    private static Set<String> serviceNames(ConfigObject services) {
        if (services == null) {
            return Set.of();
        }
        try {
            return services.keySet();
        } catch (com.typesafe.config.ConfigException.NotResolved e) {
            return Set.of();
        }
    }

    private static boolean isFlag(ConfigValue v) {
        if (v == null) {
            return false;
        }
        try {
            return v.valueType() == ConfigValueType.BOOLEAN || v.valueType() == ConfigValueType.STRING;
        } catch (com.typesafe.config.ConfigException.NotResolved e) {
            return false;
        }
    }

    /**
     * Puts back the switches HOCON dropped in one layer (see the class comment) and reports the
     * switches that dropped keys written before them.
     *
     * @param layer     the layer as parsed
     * @param text      the same layer as a document, to look for what parsing dropped
     * @param reference the reference configuration (for the keys each switch block has)
     * @param problems  where a switch written after keys of its own block is reported
     */
    static Config keepShadowed(Config layer, ConfigDocument text, Set<String> keys, Config reference,
                               List<ConfigException> problems) {
        ConfigObject mancom = object(layer.root(), "mancom");
        if (mancom == null) {
            return layer;
        }
        Set<String> all = new TreeSet<>(keys);
        all.addAll(WORDS.keySet());
        List<List<String>> blocks = new ArrayList<>();
        ConfigObject services = object(mancom, "services");
        for (String k : all) {
            blocks.add(List.of("mancom", "defaults", k));
            for (String name : serviceNames(services)) {
                blocks.add(List.of("mancom", "services", name, k));
            }
        }
        Config result = layer;
        for (List<String> path : blocks) {
            String p = ConfigUtil.joinPath(path);
            ConfigValue v;
            try {
                v = layer.hasPathOrNull(p) ? layer.getValue(p) : null;
            } catch (com.typesafe.config.ConfigException e) {
                continue; // not a block here (a service that is a string, say): the validator says so
            }
            if (v instanceof ConfigObject block && v.valueType() == ConfigValueType.OBJECT) {
                try {
                    if (replacedAValue(block)) {
                        ConfigObject kept = keep(block, text, p, path.get(path.size() - 1), problems);
                        if (kept != null) {
                            result = result.withValue(p, kept);
                        }
                    }
                } catch (com.typesafe.config.ConfigException.NotResolved e) {
                    continue; // merged with a substitution: known only once resolved, checked then
                }
            } else if (isFlag(v)) {
                String k = path.get(path.size() - 1);
                for (String child : Validator.keys(reference, "mancom", "defaults", k)) {
                    if (!child.equals(Settings.ENABLED) && text.hasPath(ConfigUtil.joinPath(append(path, child)))) {
                        String shown = path.get(1).equals("defaults") ? "mancom.defaults." + k : k;
                        String block = WORDS.containsKey(k) ? "one " + k + " { ... } block with both"
                                : k + " { enabled = " + v.unwrapped() + ", " + child + " = ... }";
                        problems.add(Origins.error(v.origin(), p, "found " + shown + " = " + v.unwrapped() + " after "
                                + shown + "." + child + " in the same file, which HOCON replaces with the "
                                + (WORDS.containsKey(k) ? "word" : "switch") + " (the value of " + child
                                + " is lost); write " + block + " or put the " + (WORDS.containsKey(k) ? "word" : "switch")
                                + " first"));
                        break;
                    }
                }
            }
        }
        return result;
    }

    /**
     * {@code block} as the user meant it, for a block that replaced a plain value in the same text;
     * null (and a problem) when that cannot be told.
     */
    private static ConfigObject keep(ConfigObject block, ConfigDocument text, String p, String k,
                                     List<ConfigException> problems) {
        if (WORDS.containsKey(k)) {
            ConfigValue v = shadowedFlag(text, p, block);
            ConfigObject meant = v == null ? null : word(k, v);
            if (meant == null) {
                problems.add(Origins.error(block.origin(), p, "found a " + k + " block that replaces the value set"
                        + " before it in the same file (HOCON keeps only the block); write one " + k + " { ... } block"));
                return null;
            }
            for (Map.Entry<String, ConfigValue> e : block.entrySet()) {
                meant = meant.withValue(e.getKey(), e.getValue());
            }
            return meant.withOrigin(block.origin());
        }
        ConfigValue flag = block.containsKey(Settings.ENABLED) ? null : shadowedFlag(text, p, block);
        if (flag == null && !block.containsKey(Settings.ENABLED)) {
            // The block form ({ ... }) after the switch: removing the block's keys leaves an empty
            // block that still hides the switch, so say what happened instead of guessing.
            problems.add(Origins.error(block.origin(), p, "found a " + k + " block that replaces the value set"
                    + " before it in the same file (HOCON keeps only the block, without enabled); write one block, "
                    + k + " { enabled = on, ... }"));
            return null;
        }
        // A new object: HOCON marked the parsed one, which replaced a plain value, to ignore
        // fallbacks, so it would hide the defaults and the earlier layers.
        ConfigObject kept = flag != null ? expand(flag) : com.typesafe.config.ConfigFactory.empty().root();
        for (Map.Entry<String, ConfigValue> e : block.entrySet()) {
            kept = kept.withValue(e.getKey(), e.getValue());
        }
        return kept.withOrigin(block.origin());
    }

    /**
     * Whether HOCON made {@code block} replace a plain value at its path in the same text: such an
     * object ignores every fallback, which a probe merge shows.
     */
    private static boolean replacedAValue(ConfigObject block) {
        ConfigObject probe = com.typesafe.config.ConfigValueFactory.fromMap(Map.of("mancom-probe", 1));
        return !block.withFallback(probe).containsKey("mancom-probe");
    }

    /**
     * The switch that {@code block} replaced at {@code path} in the same text, if any: the text is
     * parsed again without the block's keys, and a switch that is then the value at {@code path}
     * was written before them.
     */
    private static ConfigValue shadowedFlag(ConfigDocument text, String path, ConfigObject block) {
        ConfigDocument without = text;
        for (String child : block.keySet()) {
            without = without.withoutPath(path + "." + ConfigUtil.quoteString(child));
        }
        try {
            Config probe = com.typesafe.config.ConfigFactory.parseString(without.render(),
                    com.typesafe.config.ConfigParseOptions.defaults().setOriginDescription(block.origin().description()));
            if (!probe.hasPath(path)) {
                return null;
            }
            ConfigValue v = probe.getValue(path);
            if (!isFlag(v)) {
                return null;
            }
            // Removing keys keeps the other lines where they were: the probe's line is the file's.
            return v.withOrigin(block.origin().withLineNumber(v.origin().lineNumber()));
        } catch (com.typesafe.config.ConfigException e) {
            return null; // includes or substitutions the probe cannot follow: leave the layer as parsed
        }
    }

    private static List<String> append(List<String> path, String key) {
        List<String> l = new ArrayList<>(path);
        l.add(key);
        return l;
    }
}
