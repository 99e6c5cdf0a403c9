package io.mancom.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The switch shorthand: {@code mux = on} means {@code mux { enabled = on }} for every block that
 * has an {@code enabled} key in the reference {@code mancom.defaults}. Stateless.
 *
 * <p>Expansion happens in each layer before the layers are merged: merged as written, a later
 * {@code mux = on} would hide an earlier {@code mux { window = 1MiB }} entirely (a plain value
 * replaces an object), and a later {@code mux { window = 1MiB }} would silently drop an earlier
 * {@code mux = on}.
 */
final class Switches {

    private Switches() {
    }

    /** {@code { enabled = flag }}, located where the flag is written. */
    static ConfigObject expand(ConfigValue flag) {
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
     * Expands the shorthands in {@code mancom.defaults} and in each service of one layer (or of the
     * merged result). Values that are not resolved yet are left alone.
     *
     * @param defaultsFallback what an expanded default falls back to (given the key), or null
     */
    static Config expandLayer(Config layer, Set<String> keys, Function<String, ConfigObject> defaultsFallback) {
        ConfigObject mancom = object(layer.root(), "mancom");
        if (mancom == null || keys.isEmpty()) {
            return layer;
        }
        Config result = layer;
        ConfigObject defaults = object(mancom, "defaults");
        if (defaults != null) {
            for (String k : keys) {
                ConfigValue v = defaults.get(k);
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
        if (services != null) {
            for (String name : services.keySet()) {
                ConfigObject service = object(services, name);
                if (service == null) {
                    continue;
                }
                for (String k : keys) {
                    ConfigValue v = service.get(k);
                    if (isFlag(v)) {
                        result = result.withValue(ConfigUtil.joinPath("mancom", "services", name, k), expand(v));
                    }
                }
            }
        }
        return result;
    }

    private static ConfigObject object(ConfigObject parent, String key) {
        try {
            ConfigValue v = parent.get(key);
            return v instanceof ConfigObject && v.valueType() == ConfigValueType.OBJECT ? (ConfigObject) v : null;
        } catch (com.typesafe.config.ConfigException.NotResolved e) {
            return null;
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
}
