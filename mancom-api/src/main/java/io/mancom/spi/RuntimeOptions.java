package io.mancom.spi;

import io.mancom.CertificateSelector;
import io.mancom.EventListener;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * What a {@link io.mancom.ManCom.Builder} was told, as an immutable value: where the configuration
 * comes from and how many event-loop threads to run. {@link io.mancom.ManCom.Builder#start()}
 * hands it to the {@link RuntimeProvider}; tools that load the configuration without starting a
 * runtime (the command line's {@code config check} and {@code serve}) build one directly, starting
 * from {@link #defaults()}.
 *
 * <p>Applications use {@link io.mancom.ManCom.Builder}, whose setters have the same names and
 * rules; this type is for runtime implementations and tools.
 *
 * <h2>Immutability and threading</h2>
 * Every {@code with...} method returns a new value and leaves this one unchanged; instances are
 * safe to share between threads. The environment and properties given are copied.
 *
 * <h2>Errors</h2>
 * A null argument is a {@link NullPointerException} naming it; a negative thread count is an
 * {@link IllegalArgumentException} with the value.
 */
public final class RuntimeOptions {
    private static final RuntimeOptions DEFAULTS =
            new RuntimeOptions(null, Path.of("/etc/mancom"), null, null, null, null, 0, EventListener.NONE, null);

    private final Path configFile;
    private final Path systemConfigDir;
    private final Path userConfigDir;
    private final Map<String, String> environment;
    private final Properties systemProperties;
    private final String overrides;
    private final int ioThreads;
    private final EventListener eventListener;
    private final CertificateSelector certificates;

    private RuntimeOptions(Path configFile, Path systemConfigDir, Path userConfigDir, Map<String, String> environment,
            Properties systemProperties, String overrides, int ioThreads, EventListener eventListener,
            CertificateSelector certificates) {
        this.configFile = configFile;
        this.systemConfigDir = systemConfigDir;
        this.userConfigDir = userConfigDir;
        this.environment = environment;
        this.systemProperties = systemProperties;
        this.overrides = overrides;
        this.ioThreads = ioThreads;
        this.eventListener = eventListener;
        this.certificates = certificates;
    }

    /**
     * The layered system-wide configuration of this process: {@code /etc/mancom}, the user's
     * folder, {@code $MANCOM_CONFIG} and {@code -Dmancom.*}, as {@link io.mancom.ManCom#start()}
     * reads it, and the configured number of event-loop threads.
     */
    public static RuntimeOptions defaults() {
        return DEFAULTS;
    }

    /**
     * One explicit config file instead of the system, user and {@code $MANCOM_CONFIG} files; the
     * embedded defaults and {@code -Dmancom.*} still apply.
     */
    public RuntimeOptions withConfigFile(Path file) {
        Objects.requireNonNull(file, "file");
        return new RuntimeOptions(file, systemConfigDir, userConfigDir, environment, systemProperties, overrides, ioThreads, eventListener, certificates);
    }

    /** The system config folder (default {@code /etc/mancom}). */
    public RuntimeOptions withSystemConfigDir(Path dir) {
        Objects.requireNonNull(dir, "dir");
        return new RuntimeOptions(configFile, dir, userConfigDir, environment, systemProperties, overrides, ioThreads, eventListener, certificates);
    }

    /** The user config folder (default {@code $XDG_CONFIG_HOME/mancom}, or {@code ~/.config/mancom}). */
    public RuntimeOptions withUserConfigDir(Path dir) {
        Objects.requireNonNull(dir, "dir");
        return new RuntimeOptions(configFile, systemConfigDir, dir, environment, systemProperties, overrides, ioThreads, eventListener, certificates);
    }

    /** The environment variables to consult, copied (default {@link System#getenv()}). */
    public RuntimeOptions withEnvironment(Map<String, String> env) {
        Map<String, String> copy = Map.copyOf(Objects.requireNonNull(env, "env"));
        return new RuntimeOptions(configFile, systemConfigDir, userConfigDir, copy, systemProperties, overrides, ioThreads, eventListener, certificates);
    }

    /** The system properties to consult for {@code mancom.*}, copied (default the JVM's). */
    public RuntimeOptions withSystemProperties(Properties props) {
        Objects.requireNonNull(props, "props");
        Properties copy = new Properties();
        copy.putAll(props);
        return new RuntimeOptions(configFile, systemConfigDir, userConfigDir, environment, copy, overrides, ioThreads, eventListener, certificates);
    }

    /** HOCON text applied on top of every other layer. */
    public RuntimeOptions withOverrides(String hocon) {
        Objects.requireNonNull(hocon, "hocon");
        return new RuntimeOptions(configFile, systemConfigDir, userConfigDir, environment, systemProperties, hocon, ioThreads, eventListener, certificates);
    }

    /** The number of event-loop threads; 0 takes {@code mancom.io-threads} from the config. */
    public RuntimeOptions withIoThreads(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("ioThreads < 0: " + n);
        }
        return new RuntimeOptions(configFile, systemConfigDir, userConfigDir, environment, systemProperties, overrides, n, eventListener, certificates);
    }

    /** The listener told of every channel's open, close, failures and reconnects (default {@link EventListener#NONE}). */
    public RuntimeOptions withEventListener(EventListener listener) {
        Objects.requireNonNull(listener, "listener");
        return new RuntimeOptions(configFile, systemConfigDir, userConfigDir, environment, systemProperties, overrides,
                ioThreads, listener, certificates);
    }

    /**
     * The selector that picks a TLS service's certificate per handshake by the requested server
     * name (default none: every service presents its configured {@code tls.cert}).
     */
    public RuntimeOptions withCertificates(CertificateSelector selector) {
        Objects.requireNonNull(selector, "selector");
        return new RuntimeOptions(configFile, systemConfigDir, userConfigDir, environment, systemProperties, overrides,
                ioThreads, eventListener, selector);
    }

    /** The certificate selector, if one was given. */
    public Optional<CertificateSelector> certificates() {
        return Optional.ofNullable(certificates);
    }

    /** The listener told of every channel's events. */
    public EventListener eventListener() {
        return eventListener;
    }

    /** The explicit config file, if one replaces the system and user files. */
    public Optional<Path> configFile() {
        return Optional.ofNullable(configFile);
    }

    /** The system config folder. */
    public Path systemConfigDir() {
        return systemConfigDir;
    }

    /** The user config folder, if one was given (otherwise the loader derives it from the environment). */
    public Optional<Path> userConfigDir() {
        return Optional.ofNullable(userConfigDir);
    }

    /** The environment to consult: the one given, or the process's, read now. */
    public Map<String, String> environment() {
        return environment != null ? environment : System.getenv();
    }

    /**
     * The system properties to consult: a copy of the ones given, or the JVM's own (live) object,
     * so that {@code -Dmancom.*} set before a runtime starts count. Callers must not modify it.
     */
    public Properties systemProperties() {
        if (systemProperties == null) {
            return System.getProperties();
        }
        Properties copy = new Properties();
        copy.putAll(systemProperties);
        return copy;
    }

    /** The HOCON applied on top of every other layer, if any. */
    public Optional<String> overrides() {
        return Optional.ofNullable(overrides);
    }

    /** The number of event-loop threads, or 0 to take {@code mancom.io-threads} from the config. */
    public int ioThreads() {
        return ioThreads;
    }

    @Override
    public String toString() {
        return "RuntimeOptions{configFile=" + configFile + ", systemConfigDir=" + systemConfigDir + ", userConfigDir="
                + userConfigDir + ", environment=" + (environment == null ? "process" : environment.size() + " variables")
                + ", systemProperties=" + (systemProperties == null ? "JVM" : systemProperties.size() + " properties")
                + ", overrides=" + (overrides == null ? "none" : overrides.length() + " chars") + ", ioThreads=" + ioThreads + "}";
    }
}
