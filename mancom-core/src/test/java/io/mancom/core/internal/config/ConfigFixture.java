package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.spi.RuntimeOptions;
import io.mancom.core.spi.RuntimeSettings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A private file system for the loader: every layer lives under one temporary folder, the
 * environment and system properties are maps the test controls, so nothing on the machine (a real
 * /etc/mancom, the developer's ~/.config, -D flags of the build) can leak in.
 */
public final class ConfigFixture {
    final Path root;
    final Path etc;
    final Path home;
    final Map<String, String> env = new HashMap<>();
    final Properties props = new Properties();
    String overrides;
    Path configFile;

    public ConfigFixture(Path root) {
        this.root = root;
        this.etc = root.resolve("etc/mancom");
        this.home = root.resolve("home");
        env.put("HOME", home.toString());
    }

    /** Writes {@code lines} to {@code file}, one per line, so tests can name line numbers. */
    public static Path write(Path file, String... lines) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path etcFile(String... lines) {
        return write(etc.resolve("mancom.conf"), lines);
    }

    Path confD(String name, String... lines) {
        return write(etc.resolve("conf.d").resolve(name), lines);
    }

    /** The user file in the HOME fallback location, {@code ~/.config/mancom/mancom.conf}. */
    Path homeFile(String... lines) {
        return write(home.resolve(".config/mancom/mancom.conf"), lines);
    }

    /** Sets {@code XDG_CONFIG_HOME} and writes the user file there. */
    Path xdgFile(String... lines) {
        Path xdg = root.resolve("xdg");
        env.put("XDG_CONFIG_HOME", xdg.toString());
        return write(xdg.resolve("mancom/mancom.conf"), lines);
    }

    /** Writes a file and names it in {@code $MANCOM_CONFIG}. */
    Path mancomConfig(String... lines) {
        Path f = write(root.resolve("named/app.conf"), lines);
        env.put("MANCOM_CONFIG", f.toString());
        return f;
    }

    RuntimeOptions options() {
        RuntimeOptions o = RuntimeOptions.defaults().withSystemConfigDir(etc).withEnvironment(env).withSystemProperties(props);
        if (overrides != null) {
            o = o.withOverrides(overrides);
        }
        if (configFile != null) {
            o = o.withConfigFile(configFile);
        }
        return o;
    }

    public RuntimeSettings load() {
        return ConfigLoader.load(options());
    }

    ConfigException fails() {
        Throwable[] thrown = new Throwable[1];
        assertThatThrownBy(this::load).isInstanceOf(ConfigException.class).satisfies(t -> thrown[0] = t);
        return (ConfigException) thrown[0];
    }
}
