package io.mancom.daemon;

import io.mancom.core.internal.Signals;
import io.mancom.daemon.internal.DaemonServer;
import io.mancom.daemon.internal.HangUp;
import io.mancom.spi.RuntimeOptions;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The system daemon ({@code mancom daemon}, docs/daemon.md): owns the endpoints of the
 * {@code scope = system} services of the layered configuration and hands their connections to the
 * processes that attach on its control socket.
 *
 * <h2>Lifecycle</h2>
 * {@link #start} loads the configuration, binds every system service, serves the control socket
 * (or the socket systemd passed: {@code LISTEN_FDS}), tells systemd {@code READY=1} when
 * {@code NOTIFY_SOCKET} is set, and takes SIGHUP as a request to {@link #reload()}. {@link #close()}
 * stops it all and puts SIGHUP's previous handling back. One instance per process.
 *
 * <h2>Threading</h2>
 * The daemon runs on threads of its own; every method may be called from any thread. {@link
 * #start}, {@link #reload()} and {@link #close()} block until done.
 *
 * <h2>Errors</h2>
 * {@link io.mancom.ConfigException} for an invalid configuration (nothing opened);
 * {@link IOException} when another daemon answers at the socket ("a daemon already runs at ..."),
 * or the socket cannot be served. A service whose endpoint cannot be bound does not stop the
 * daemon: it is reported as not ready, and processes attaching to it are refused with NOT_READY.
 */
public final class ManComDaemon implements AutoCloseable {
    private final DaemonServer server;
    private final Signals hangUp;

    private ManComDaemon(DaemonServer server, Signals hangUp) {
        this.server = server;
        this.hangUp = hangUp;
    }

    /** Starts the daemon with the configuration {@code options} describe and this process's environment. */
    public static ManComDaemon start(RuntimeOptions options) throws IOException {
        DaemonServer s = DaemonServer.start(options, System.getenv());
        // Before the handler: jSerialComm, once loaded, would have the process ignore SIGHUP.
        HangUp.reclaimFromSerialLibrary();
        return new ManComDaemon(s, Signals.install(s::reloadLater, "HUP"));
    }

    /** The control socket it serves. */
    public Path socket() {
        return server.socket();
    }

    /**
     * Re-reads the configuration: unchanged services keep every connection, changed ones move,
     * new ones start, removed ones stop. Returns the report (JSON, as {@code POST /v1/reload}).
     */
    public String reload() {
        return server.reload();
    }

    @Override
    public void close() {
        try {
            server.close();
        } finally {
            hangUp.close();
        }
    }
}
