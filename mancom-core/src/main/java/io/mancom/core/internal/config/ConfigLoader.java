package io.mancom.core.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.parser.ConfigDocument;
import com.typesafe.config.parser.ConfigDocumentFactory;
import io.mancom.ConfigException;
import io.mancom.ManCom;
import io.mancom.spi.RuntimeOptions;
import io.mancom.core.spi.ConfigLayer;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Loads the layered configuration and validates it into {@link RuntimeSettings}.
 *
 * <h2>Layers</h2>
 * Later layers override earlier ones, key by key:
 * <ol>
 *   <li>every {@code reference.conf} on the class path (each ManCom jar may add defaults);</li>
 *   <li>{@code <systemConfigDir>/mancom.conf}, then {@code <systemConfigDir>/conf.d/*.conf} in name
 *       order (names starting with a dot are skipped, like editor leftovers);</li>
 *   <li>{@code <userConfigDir>/mancom.conf}; the user folder defaults to
 *       {@code $XDG_CONFIG_HOME/mancom}, or {@code $HOME/.config/mancom} when that is unset, empty or
 *       relative;</li>
 *   <li>the file named by {@code $MANCOM_CONFIG};</li>
 *   <li>system properties whose names start with {@code mancom.};</li>
 *   <li>{@link ManCom.Builder#overrides(String)}.</li>
 * </ol>
 * {@link ManCom.Builder#configFile(Path)} replaces layers 2 to 4. Missing system and user files are
 * skipped; a missing {@code $MANCOM_CONFIG} or explicit file is an error, since someone named it.
 * Environment variables come from {@link RuntimeOptions#environment()}, both for locating files and
 * for substitutions such as {@code ${HOME}} (which are resolved after all layers are merged, so a
 * layer may refer to values set in any other).
 *
 * <p>In every layer but the first, a block with an {@code enabled} key in the defaults may be
 * written as a bare switch ({@code mux = on}); see {@link Settings}.
 *
 * <h2>Validation</h2>
 * Each service is its block under {@code mancom.services} with {@code mancom.defaults} as fallback.
 * A service may contain {@code endpoint} and the keys of {@code mancom.defaults}; {@code mancom}
 * may contain the keys the {@code reference.conf} files define there. So a module extends both by
 * shipping defaults. A service set to {@code null} is removed (how a user drops {@code demo}).
 *
 * <h2>Errors</h2>
 * Every problem is a {@link ConfigException} located at the offending value (file and line, or a
 * "(from system property -Dmancom...)" note), naming its full key, what was found and what is
 * allowed. Validation collects every problem it can find: the first is thrown and the others are
 * attached as {@linkplain Throwable#getSuppressed() suppressed} exceptions, so {@code mancom config
 * check} can list them all. A syntax error stops loading at once.
 *
 * <h2>Threading</h2>
 * Stateless; the methods may be called from any thread. They read files and so block.
 */
public final class ConfigLoader {
    static final String RESOURCE = "reference.conf";
    static final String DEFAULTS = Settings.DEFAULTS;
    static final String SERVICES = "mancom.services";
    /** The variable that names an extra config file (layer 4). */
    public static final String MANCOM_CONFIG = "MANCOM_CONFIG";

    private static final Logger log = LoggerFactory.getLogger(ConfigLoader.class);

    private ConfigLoader() {
    }

    /**
     * Loads the layers the builder describes, with the {@code reference.conf} files of the thread's
     * context class loader (or of this class's loader if it has none).
     *
     * @throws ConfigException if a file named explicitly is missing, a file is unreadable or not
     *                         HOCON, or a value is invalid
     */
    public static RuntimeSettings load(RuntimeOptions settings) {
        return load(settings, defaultClassLoader());
    }

    /**
     * As {@link #load(RuntimeOptions)}, with the {@code reference.conf} files {@code classLoader}
     * sees (for plugin class loaders and tests).
     */
    public static RuntimeSettings load(RuntimeOptions settings, ClassLoader classLoader) {
        return load(settings, reference(classLoader));
    }

    /**
     * As {@link #load(RuntimeOptions)}, with {@code reference} (from {@link #reference(ClassLoader)})
     * as the first layer: for a caller that loads many configs against the same class path, as the
     * config loader's fuzz target does (parsing the {@code reference.conf} files was half of each
     * load). {@link Config} is immutable, so one may be shared.
     */
    static RuntimeSettings load(RuntimeOptions settings, Config reference) {
        Map<String, String> env = settings.environment();
        Layers layers = new Layers(reference);
        Optional<Path> explicit = settings.configFile();
        if (explicit.isPresent()) {
            layers.file(explicit.get().toString(), explicit.get(),
                    "it was named explicitly (ManCom.Builder.configFile or --config), so it must exist");
        } else {
            Path systemDir = settings.systemConfigDir();
            layers.file(systemDir.resolve("mancom.conf").toString(), systemDir.resolve("mancom.conf"), null);
            layers.directory(systemDir.resolve("conf.d"));
            Optional<Path> userDir = settings.userConfigDir().or(() -> defaultUserConfigDir(env));
            if (userDir.isPresent()) {
                Path f = userDir.get().resolve("mancom.conf");
                layers.file(f.toString(), f, null);
            } else {
                layers.absent("$XDG_CONFIG_HOME/mancom/mancom.conf (neither $XDG_CONFIG_HOME nor $HOME is set)");
            }
            String named = env.get(MANCOM_CONFIG);
            if (named != null && !named.isEmpty()) {
                layers.file("$" + MANCOM_CONFIG, Path.of(named),
                        "it is named by $" + MANCOM_CONFIG + ", so it must exist (unset the variable to use the usual files)");
            } else {
                layers.absent("$" + MANCOM_CONFIG);
            }
        }
        layers.systemProperties(settings.systemProperties());
        layers.overrides(settings.overrides());
        return Validator.validate(layers.resolve(env), layers.reference, List.copyOf(layers.list), settings.ioThreads(),
                layers.problems);
    }

    /**
     * The {@code reference.conf} files plus one file, nothing else: what {@code mancom config check
     * FILE} checks. Substitutions may use the process's environment.
     *
     * @throws ConfigException if the file is missing or invalid
     */
    public static RuntimeSettings loadFile(Path file) {
        Layers layers = new Layers(reference(defaultClassLoader()));
        layers.file(file.toString(), file, "it was named explicitly, so it must exist");
        return Validator.validate(layers.resolve(RuntimeOptions.defaults().environment()), layers.reference,
                List.copyOf(layers.list), 0, layers.problems);
    }

    /** {@code $XDG_CONFIG_HOME/mancom}, else {@code $HOME/.config/mancom}, per the XDG base directory spec. */
    static Optional<Path> defaultUserConfigDir(Map<String, String> env) {
        String xdg = env.get("XDG_CONFIG_HOME");
        // The spec says to ignore a relative XDG_CONFIG_HOME; it would depend on the working directory.
        if (xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()) {
            return Optional.of(Path.of(xdg, "mancom"));
        }
        String home = env.get("HOME");
        if (home != null && !home.isEmpty()) {
            return Optional.of(Path.of(home, ".config", "mancom"));
        }
        return Optional.empty();
    }

    /**
     * The {@code reference.conf} files {@code classLoader} sees, merged (layer 1).
     *
     * @throws ConfigException if one is not HOCON
     * @throws IllegalStateException if none defines {@code mancom.defaults}
     */
    static Config reference(ClassLoader classLoader) {
        Config reference;
        try {
            reference = ConfigFactory.parseResources(classLoader, RESOURCE);
        } catch (com.typesafe.config.ConfigException e) {
            throw Origins.translate(e, null, "HOCON syntax error in a reference.conf on the class path: ");
        }
        if (Validator.object(reference, "mancom", "defaults") == null) {
            throw new IllegalStateException("no reference.conf with mancom.defaults on the class path of "
                    + classLoader + ": is the mancom-core jar complete?");
        }
        return reference;
    }

    private static ClassLoader defaultClassLoader() {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        return cl != null ? cl : ConfigLoader.class.getClassLoader();
    }

    /** The layers read so far, earliest first, and their parsed contents. Not thread-safe. */
    private static final class Layers {
        final List<ConfigLayer> list = new ArrayList<>();
        final Config reference;
        /** Problems found in a layer's text that parsing hides (see Switches#keepShadowed). */
        final List<ConfigException> problems = new ArrayList<>();
        private final Set<String> switchKeys;
        private Config merged;

        Layers(Config reference) {
            this.reference = reference;
            switchKeys = Switches.keys(Validator.object(reference, "mancom", "defaults"));
            merged = reference;
            add(new ConfigLayer(RESOURCE, Optional.empty(), true), null);
        }

        void absent(String name) {
            add(new ConfigLayer(name, Optional.empty(), false), null);
        }

        /** @param required why the file must exist, or null if it may be missing */
        void file(String name, Path file, String required) {
            if (!Files.exists(file)) {
                if (required != null) {
                    throw new ConfigException(file.toString(), -1, null, "no such file; " + required);
                }
                add(new ConfigLayer(name, Optional.of(file), false), null);
                return;
            }
            if (!Files.isRegularFile(file)) {
                throw new ConfigException(file.toString(), -1, null, "not a regular file; expected a HOCON config file");
            }
            Config parsed;
            try {
                parsed = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (com.typesafe.config.ConfigException.IO e) {
                Throwable why = e.getCause() != null ? e.getCause() : e;
                throw new ConfigException(file.toString(), -1, null, "cannot read the file: " + why, e);
            } catch (com.typesafe.config.ConfigException e) {
                throw Origins.translate(e, null, "HOCON syntax error: ");
            }
            ConfigDocument text;
            try {
                text = ConfigDocumentFactory.parseFile(file.toFile());
            } catch (com.typesafe.config.ConfigException e) {
                text = null; // parsed above, so this cannot fail on syntax; the text check is best effort
            }
            add(new ConfigLayer(name, Optional.of(file), true), shadowed(parsed, text));
        }

        void directory(Path dir) {
            List<Path> files = new ArrayList<>();
            if (Files.isDirectory(dir)) {
                try (Stream<Path> entries = Files.list(dir)) {
                    entries.filter(p -> {
                        String n = p.getFileName().toString();
                        return n.endsWith(".conf") && !n.startsWith(".") && Files.isRegularFile(p);
                    }).sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                            .forEach(files::add);
                } catch (IOException e) {
                    throw new ConfigException(dir.toString(), -1, null, "cannot list the folder: " + e);
                }
            }
            if (files.isEmpty()) {
                add(new ConfigLayer(dir.resolve("*.conf").toString(), Optional.of(dir), false), null);
            }
            for (Path f : files) {
                file(f.toString(), f, null);
            }
        }

        void systemProperties(Properties props) {
            // Each property is its own tiny layer so that its origin names it: an error can then say
            // "from system property -Dmancom.x" although properties have no file or line.
            Config all = ConfigFactory.empty();
            for (String name : new TreeSet<>(props.stringPropertyNames())) {
                if (!name.startsWith("mancom.")) {
                    continue;
                }
                Properties one = new Properties();
                one.setProperty(name, props.getProperty(name));
                try {
                    all = ConfigFactory.parseProperties(one, ConfigParseOptions.defaults()
                            .setOriginDescription(Origins.SYSTEM_PROPERTY_ORIGIN + name)).withFallback(all);
                } catch (com.typesafe.config.ConfigException e) {
                    throw new ConfigException(null, -1, name, "not a valid config key (from system property -D" + name + ")", e);
                }
            }
            add(new ConfigLayer("-Dmancom.*", Optional.empty(), !all.isEmpty()), all.isEmpty() ? null : all);
        }

        void overrides(Optional<String> hocon) {
            Config parsed = null;
            if (hocon.isPresent()) {
                try {
                    parsed = ConfigFactory.parseString(hocon.get(),
                            ConfigParseOptions.defaults().setOriginDescription(Origins.OVERRIDES_ORIGIN));
                } catch (com.typesafe.config.ConfigException e) {
                    throw Origins.translate(e, null, "HOCON syntax error: ");
                }
            }
            if (parsed != null) {
                parsed = shadowed(parsed, ConfigDocumentFactory.parseString(hocon.get()));
            }
            add(new ConfigLayer(Origins.OVERRIDES_ORIGIN, Optional.empty(), hocon.isPresent()), parsed);
        }

        /** The layer with the switches HOCON dropped within it put back (see {@link Switches#keepShadowed}). */
        private Config shadowed(Config parsed, ConfigDocument text) {
            return text == null ? parsed : Switches.keepShadowed(parsed, text, switchKeys, reference, problems);
        }

        private void add(ConfigLayer layer, Config parsed) {
            log.debug("config layer {}: {}", layer.name(), layer.present() ? "present" : "absent");
            list.add(layer);
            if (parsed != null) {
                merged = Switches.expandLayer(parsed, switchKeys, null).withFallback(merged);
            }
        }

        /** The merged layers with substitutions resolved against themselves and {@code env}. */
        Config resolve(Map<String, String> env) {
            Map<String, ConfigValue> vars = new HashMap<>();
            env.forEach((k, v) -> vars.put(k, ConfigValueFactory.fromAnyRef(v, Origins.ENVIRONMENT_ORIGIN + k)));
            Config resolved;
            try {
                // Environment variables are a fallback at the root, the way Typesafe's own loading
                // treats them, but from the builder's map rather than System.getenv().
                resolved = merged.withFallback(ConfigValueFactory.fromMap(vars, "environment").toConfig())
                        .resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false));
            } catch (com.typesafe.config.ConfigException.UnresolvedSubstitution e) {
                throw Origins.translate(e, null, "", "; set it in a config file or the environment, or write ${?NAME}"
                        + " to make it optional");
            } catch (com.typesafe.config.ConfigException e) {
                throw Origins.translate(e, null, "");
            }
            ConfigObject root = resolved.root();
            for (String k : env.keySet()) {
                if (!merged.root().containsKey(k)) {
                    root = root.withoutKey(k);
                }
            }
            // A switch that only became a value through a substitution is expanded now; it can
            // only fall back to the reference, which is what an unexpanded switch would do anyway.
            Config referenceDefaults = resolvedReferenceDefaults();
            return Switches.expandLayer(root.toConfig(), switchKeys, k -> {
                ConfigValue v = referenceDefaults.root().get(k);
                return v instanceof ConfigObject ? (ConfigObject) v : null;
            });
        }

        private Config resolvedReferenceDefaults() {
            try {
                return reference.resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(false)
                        .setAllowUnresolved(true)).getConfig(DEFAULTS);
            } catch (com.typesafe.config.ConfigException e) {
                return ConfigFactory.empty();
            }
        }
    }
}
