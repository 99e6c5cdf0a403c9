package io.mancom.core.internal.config;

import com.typesafe.config.Config;
import io.mancom.ConfigException;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.Settings;

import java.nio.file.Path;
import java.util.List;

/**
 * Where the system daemon listens: {@code mancom.daemon.socket}, by default
 * {@code <runtime-dir>/mancomd.sock}. The daemon serves there; runtimes attach their
 * {@code scope = system} services there. An immutable value.
 *
 * @param socket the daemon's control socket, absolute
 */
public record DaemonSettings(Path socket) {
    static final String DAEMON = "daemon";
    static final String SOCKET = "socket";
    /** The socket's file name in the runtime directory. */
    public static final String SOCKET_NAME = "mancomd.sock";

    /**
     * Reads and checks the {@code daemon} block of {@code mancom}; unknown keys against
     * {@code reference}, unless that is null.
     *
     * @throws ConfigException naming the key: a relative path
     */
    static DaemonSettings read(Settings mancom, Config reference, Path runtimeDir) {
        Settings daemon = mancom.block(DAEMON);
        if (reference != null) {
            List<ConfigException> unknown = daemon.unknownKeys(Validator.keys(reference, "mancom", DAEMON), false);
            if (!unknown.isEmpty()) {
                throw unknown.get(0);
            }
        }
        String socket = daemon.getString(SOCKET).trim();
        if (socket.isEmpty()) {
            return new DaemonSettings(runtimeDir.resolve(SOCKET_NAME));
        }
        Path p = Path.of(socket);
        if (!p.isAbsolute()) {
            throw daemon.error(SOCKET, "found \"" + socket + "\" but expected an absolute path such as "
                    + "\"/run/mancom/mancomd.sock\", or \"\" for <runtime-dir>/" + SOCKET_NAME);
        }
        return new DaemonSettings(p);
    }

    /** The settings of a loaded runtime (validated already by the loader). */
    public static DaemonSettings of(RuntimeSettings runtime) {
        Settings mancom = Settings.of(runtime.config().getConfig("mancom"), "mancom");
        return read(mancom, null, ControlSettings.read(mancom, null).runtimeDir());
    }
}
