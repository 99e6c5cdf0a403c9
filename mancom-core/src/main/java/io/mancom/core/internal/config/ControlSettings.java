package io.mancom.core.internal.config;

import com.typesafe.config.Config;
import io.mancom.ConfigException;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.Settings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where a runtime keeps its control socket and whether it serves one: {@code mancom.runtime-dir}
 * and {@code mancom.control}. An immutable value.
 *
 * <p>An empty {@code runtime-dir} means the per-user default: {@code $XDG_RUNTIME_DIR/mancom}, or
 * {@code /tmp/mancom-$UID} when that variable is unset (the process's environment is consulted,
 * not the builder's: the directory is a place on this machine, shared with {@code mancom status}).
 *
 * @param enabled    whether the runtime serves {@code <runtimeDir>/proc/<pid>.sock}
 * @param runtimeDir the runtime directory, absolute
 */
public record ControlSettings(boolean enabled, Path runtimeDir) {
    static final String RUNTIME_DIR = "runtime-dir";
    static final String CONTROL = "control";

    /**
     * Reads and checks both keys of the {@code mancom} block; unknown keys in {@code control}
     * against {@code reference} (the merged reference.conf files), unless that is null.
     *
     * @throws ConfigException naming the key: a relative directory, a control block with unknown
     *                         keys, a switch that is not on/off
     */
    static ControlSettings read(Settings mancom, Config reference) {
        Settings control = mancom.switchBlock(CONTROL);
        if (reference != null) {
            List<ConfigException> unknown = control.unknownKeys(Validator.keys(reference, "mancom", CONTROL), false);
            if (!unknown.isEmpty()) {
                throw unknown.get(0);
            }
        }
        boolean enabled = control.getBoolean(Settings.ENABLED);
        String dir = mancom.getString(RUNTIME_DIR);
        Path path;
        if (dir.isEmpty()) {
            path = defaultRuntimeDir(System.getenv());
        } else {
            path = Path.of(dir);
            if (!path.isAbsolute()) {
                throw mancom.error(RUNTIME_DIR, "found \"" + dir + "\" but expected an absolute directory such as "
                        + "\"/run/user/1000/mancom\", or \"\" for the default ($XDG_RUNTIME_DIR/mancom, else /tmp/mancom-$UID)");
            }
        }
        return new ControlSettings(enabled, path);
    }

    /** The settings of a loaded runtime (validated already by the loader). */
    public static ControlSettings of(RuntimeSettings runtime) {
        return read(Settings.of(runtime.config().getConfig("mancom"), "mancom"), null);
    }

    /** {@code $XDG_RUNTIME_DIR/mancom} if that is set and absolute, else {@code /tmp/mancom-$UID}. */
    public static Path defaultRuntimeDir(Map<String, String> env) {
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && !xdg.isEmpty() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "mancom");
        }
        return Path.of("/tmp", "mancom-" + uid());
    }

    /** This process's user id, from /proc/self (Linux); "unknown" where that cannot be read. */
    static String uid() {
        try {
            return String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (Exception e) {
            return System.getProperty("user.name", "unknown");
        }
    }
}
