package io.mancom.core.spi;

import io.mancom.ConfigException;
import io.mancom.ManCom;
import io.mancom.spi.RuntimeOptions;
import io.mancom.core.internal.config.ConfigLoader;
import io.mancom.core.internal.config.ConfigReport;
import io.mancom.core.internal.config.ControlSettings;

import java.nio.file.Path;

/**
 * The runtime's configuration loader, for tools: {@code mancom config check} and {@code mancom
 * serve} read the configuration through it exactly as {@link ManCom.Builder#start()} does, so a
 * file the tool accepts is a file the runtime accepts, with the same messages.
 *
 * <p>This is the one entry into mancom-core's loader from outside; the loader itself is internal.
 * Transports do not need it: they get the loaded settings from the runtime
 * ({@link ChannelSink#settings()}, or {@code context.unwrap(RuntimeSettings.class)}).
 *
 * <h2>Threading and errors</h2>
 * Stateless; every method may be called from any thread. Loading reads files and so blocks. An
 * invalid configuration throws a {@link ConfigException} for the first problem, naming its file,
 * line and key, with every further problem attached as a suppressed exception.
 */
public final class ConfigTools {

    private ConfigTools() {
    }

    /**
     * The effective configuration the options describe (every layer: reference.conf files, the
     * system and user files, {@code MANCOM_CONFIG}, system properties, the options' file and
     * overrides), validated as {@link ManCom.Builder#start()} validates it.
     *
     * @throws ConfigException if a file named explicitly is missing, a file is unreadable or not
     *                         HOCON, or a value is invalid
     */
    public static RuntimeSettings load(RuntimeOptions options) {
        return ConfigLoader.load(options);
    }

    /**
     * The {@code reference.conf} files plus one file, nothing else: what {@code mancom config check
     * FILE} checks. Substitutions may use the process's environment.
     *
     * @throws ConfigException if the file is missing or invalid
     */
    public static RuntimeSettings loadFile(Path file) {
        return ConfigLoader.loadFile(file);
    }

    /**
     * A plain-text report of a loaded configuration: the layers (present or absent), the global
     * values, then each service with its endpoint and its values, each followed by where it was set.
     * The format is for people and may change between versions.
     */
    public static String report(RuntimeSettings settings) {
        return ConfigReport.of(settings).format();
    }

    /**
     * The runtime directory a configuration names ({@code mancom.runtime-dir}, or its default:
     * {@code $XDG_RUNTIME_DIR/mancom}, else {@code /tmp/mancom-UID}): where every runtime's control
     * socket is, under {@code proc/}. {@code mancom status} looks there.
     */
    public static Path runtimeDir(RuntimeSettings settings) {
        return ControlSettings.of(settings).runtimeDir();
    }

    /**
     * The system daemon's control socket ({@code mancom.daemon.socket}, by default
     * {@code <runtime-dir>/mancomd.sock}): where {@code mancom daemon} serves and where runtimes
     * attach their {@code scope = system} services.
     */
    public static Path daemonSocket(RuntimeSettings settings) {
        return io.mancom.core.internal.config.DaemonSettings.of(settings).socket();
    }
}
