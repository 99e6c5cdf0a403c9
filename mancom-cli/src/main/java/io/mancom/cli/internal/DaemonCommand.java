package io.mancom.cli.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.core.spi.ConfigTools;
import io.mancom.daemon.ManComDaemon;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code mancom daemon}: runs the system daemon in the foreground until SIGTERM or SIGINT (exit 0);
 * SIGHUP reloads its configuration. {@code mancom daemon reload} asks a running daemon to reload.
 *
 * <h2>Lifecycle</h2>
 * The daemon is started first ({@link ManComDaemon#start}: a bad configuration exits 2, a daemon
 * already at the socket exits 1, before any signal handling is installed); then SIGTERM and SIGINT
 * are taken over ({@link StopRequest}) and a shutdown hook added; the command's own thread closes
 * the daemon, once.
 */
@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Run the system daemon in the foreground: it owns the endpoints of the scope = system services",
                "and hands their connections to the processes that serve them (docs/daemon.md).",
                "",
                "Serves HTTP on mancom.daemon.socket (default <runtime-dir>/mancomd.sock), or on the socket systemd"
                        + " passes (LISTEN_FDS); tells systemd READY=1 when NOTIFY_SOCKET is set. SIGHUP re-reads"
                        + " the configuration; SIGTERM or Ctrl-C stops it (exit 0)."},
        subcommands = DaemonCommand.Reload.class)
final class DaemonCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ConfigOption config;

    private final StopRequest stop = new StopRequest("daemon");

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (ManComDaemon daemon = ManComDaemon.start(config.options())) {
            stop.await(() -> {
                out.println("mancom daemon serving on " + daemon.socket() + " (SIGHUP reloads; Ctrl-C or SIGTERM stops).");
                out.flush();
            });
            out.println("Stopping the daemon.");
            out.flush();
        } finally {
            stop.stopped();
        }
        out.println("Stopped.");
        out.flush();
        return ExitCode.OK.code();
    }

    /** {@code mancom daemon reload}: {@code POST /v1/reload} on the daemon's socket; prints the report. */
    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = {"Ask the running daemon to re-read its configuration (as SIGHUP does) and print what moved."})
    static final class Reload implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Mixin
        private ConfigOption config;

        @Override
        public Integer call() throws IOException {
            var socket = ConfigTools.daemonSocket(ConfigTools.load(config.options()));
            DaemonClient.Answer a = DaemonClient.post(socket, "/v1/reload");
            spec.commandLine().getOut().print(a.body());
            spec.commandLine().getOut().flush();
            boolean ok;
            try {
                ok = a.status() == 200 && new ObjectMapper().readTree(a.body()).path("ok").asBoolean(false);
            } catch (IOException notJson) {
                ok = false;
            }
            // A reload the daemon refused (its config does not load) changed nothing: exit 1.
            return ok ? ExitCode.OK.code() : ExitCode.FAILURE.code();
        }
    }
}
