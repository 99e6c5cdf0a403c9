package io.mancom.cli.internal.status;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mancom.cli.internal.ExitCode;
import io.mancom.core.spi.ConfigTools;
import io.mancom.spi.RuntimeOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code mancom status}: every ManCom process of this user on the machine, from the control
 * sockets in the runtime directory ({@code <runtime-dir>/proc/<pid>.sock}), as one table, as JSON,
 * live ({@code --watch}), as an event tail ({@code --events}) or as a live web page
 * ({@code --web}).
 *
 * <h2>Runtime directory</h2>
 * {@code --runtime-dir}, else {@code mancom.runtime-dir} of the effective configuration (or of
 * {@code --config FILE}), else {@code $XDG_RUNTIME_DIR/mancom}, else {@code /tmp/mancom-$UID}: the
 * directory the runtimes themselves use. Sockets of processes that are gone are removed, as a
 * starting runtime does; processes that end between the listing and the query are left out.
 *
 * <p>Runs on the calling thread; {@code --watch}, {@code --events} and {@code --web} run until
 * interrupted (Ctrl-C) or, for the first two, until {@code --count} is reached.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show every ManCom process, service and channel on this machine, like ss or docker ps.",
                "",
                "Reads the control sockets in the runtime directory (<runtime-dir>/proc/<pid>.sock) and prints one"
                        + " table: a row per service of each process, a row per open channel under it. RATE is bytes in"
                        + " plus out per second: the average since start, or, with --watch, since the last redraw."
                        + " Byte counts are exact below 10000, then in binary units (K = 1024)."})
public final class StatusCommand implements Callable<Integer> {
    /** Where {@code --web} listens unless told otherwise. */
    static final String DEFAULT_LISTEN = "127.0.0.1:9465";

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print every process's snapshot as one JSON document"
            + " (with --events: each event as one JSON line).")
    private boolean json;

    @Option(names = "--watch", description = "Redraw the table every second, like top (Ctrl-C to stop).")
    private boolean watch;

    @Option(names = "--events", description = "Follow the events of every process (open, close, error, reconnect),"
            + " one line each, like docker events (Ctrl-C to stop).")
    private boolean events;

    @Option(names = "--web", description = "Serve a live page of the whole system (the table and a throughput plot"
            + " per service; no CDN) until Ctrl-C.")
    private boolean web;

    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Where --web listens (default "
            + DEFAULT_LISTEN + ", loopback only; port 0 picks a free one).")
    private String listen;

    @Option(names = {"-p", "--pid"}, paramLabel = "PID", description = "Only this process.")
    private Long pid;

    @Option(names = {"-a", "--all"}, description = "Also list services that are idle and untouched (such as the"
            + " built-in demo of every mancom serve).")
    private boolean all;

    @Option(names = "--service", paramLabel = "NAME", description = "Only this service (and its channels).")
    private String service;

    @Option(names = "--count", paramLabel = "N", description = "End --watch after N redraws, --events after N events"
            + " (default: run until Ctrl-C).")
    private long count;

    @Option(names = "--runtime-dir", paramLabel = "DIR", description = "Read this runtime directory instead of the"
            + " configured one (mancom.runtime-dir).")
    private Path runtimeDir;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "Take mancom.runtime-dir from this config"
            + " file instead of /etc/mancom, the user file and $MANCOM_CONFIG.")
    private Path config;

    /** The daemon's control socket, set when the command runs. */
    private Path daemonSocket;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int modes = (watch ? 1 : 0) + (events ? 1 : 0) + (web ? 1 : 0);
        if (modes > 1) {
            throw new ParameterException(spec.commandLine(), "choose one of --watch, --events and --web");
        }
        if (listen != null && !web) {
            throw new ParameterException(spec.commandLine(), "--listen goes with --web");
        }
        if (count < 0) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1: " + count);
        }
        ControlSockets sockets = new ControlSockets(runtimeDir());
        daemonSocket = daemonSocket();
        if (events) {
            new EventsTail(sockets, pid, service, json).run(out, err, count);
        } else if (web) {
            serveWeb(sockets, out);
        } else if (watch) {
            watch(sockets, out);
        } else {
            once(sockets, out);
        }
        return ExitCode.OK.code();
    }

    /** The daemon's socket: in --runtime-dir when that is given, else as the config says. */
    private Path daemonSocket() {
        if (runtimeDir != null) {
            return runtimeDir.toAbsolutePath().resolve("mancomd.sock");
        }
        RuntimeOptions options = config != null ? RuntimeOptions.defaults().withConfigFile(config) : RuntimeOptions.defaults();
        return ConfigTools.daemonSocket(ConfigTools.load(options));
    }

    private Path runtimeDir() {
        if (runtimeDir != null) {
            return runtimeDir.toAbsolutePath();
        }
        RuntimeOptions options = config != null ? RuntimeOptions.defaults().withConfigFile(config) : RuntimeOptions.defaults();
        return ConfigTools.runtimeDir(ConfigTools.load(options));
    }

    private void once(ControlSockets sockets, PrintWriter out) throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        List<ObjectNode> all = filtered(sockets.statuses(problem -> err.println("mancom status: " + problem)));
        err.flush();
        Optional<ObjectNode> daemon = pid == null ? DaemonStatus.query(daemonSocket) : Optional.empty();
        if (json) {
            ObjectNode doc = ControlSockets.document(sockets.runtimeDir(), all);
            daemon.ifPresent(d -> doc.set("daemon", d));
            out.println(ControlSockets.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
        } else {
            if (all.isEmpty()) {
                out.println("No ManCom process" + (pid != null ? " " + pid : "") + " in " + sockets.runtimeDir() + ".");
            } else {
                new StatusTable().lines(all, pid, service, this.all).forEach(out::println);
            }
            daemon.ifPresent(d -> {
                out.println();
                DaemonStatus.lines(d, service).forEach(out::println);
            });
        }
        out.flush();
    }

    /** Redraws once a second, on the second, clearing the screen first (ANSI), like top. */
    private void watch(ControlSockets sockets, PrintWriter out) throws IOException, InterruptedException {
        StatusTable table = new StatusTable();
        for (long n = 1; count == 0 || n <= count; n++) {
            List<ObjectNode> all = filtered(sockets.statuses());
            List<String> lines = table.lines(all, pid, service, this.all);
            out.print("\033[H\033[2J");
            out.println("mancom status  " + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "  " + all.size()
                    + (all.size() == 1 ? " process" : " processes") + " in " + sockets.runtimeDir()
                    + "  (Ctrl-C to stop)");
            lines.forEach(out::println);
            if (pid == null) {
                DaemonStatus.query(daemonSocket).ifPresent(d -> {
                    out.println();
                    DaemonStatus.lines(d, service).forEach(out::println);
                });
            }
            out.flush();
            if (count != 0 && n == count) {
                break;
            }
            Thread.sleep(1000 - System.currentTimeMillis() % 1000);
        }
    }

    private void serveWeb(ControlSockets sockets, PrintWriter out) throws IOException, InterruptedException {
        InetSocketAddress at = address(listen != null ? listen : DEFAULT_LISTEN);
        try (StatusWeb w = StatusWeb.start(at, sockets)) {
            InetSocketAddress bound = w.address();
            String host = bound.getAddress().isAnyLocalAddress() ? "localhost" : bound.getAddress().getHostAddress();
            if (host.contains(":")) {
                host = "[" + host + "]";
            }
            out.println("mancom status: the live page of " + sockets.runtimeDir() + " is on http://" + host + ":"
                    + bound.getPort() + "/ (read-only; Ctrl-C to stop)");
            out.flush();
            new CountDownLatch(1).await(); // until the JVM is stopped
        }
    }

    /** {@code HOST:PORT} ({@code [v6]:PORT} for IPv6) as a socket address; a bad one is a command-line error. */
    private InetSocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new IllegalArgumentException("no port");
            }
            String host = hostPort.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port = Integer.parseInt(hostPort.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range");
            }
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (IOException | IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--listen " + hostPort + ": expected HOST:PORT such as "
                    + DEFAULT_LISTEN + " (" + e.getMessage() + ")");
        }
    }

    /** The statuses of {@code -p} and {@code --service} (the table filters again, per row). */
    private List<ObjectNode> filtered(List<ObjectNode> all) {
        return all.stream()
                .filter(s -> pid == null || s.path("pid").asLong() == pid)
                .filter(s -> service == null || hasService(s, service))
                .map(s -> service == null || !json ? s : only(s, service))
                .toList();
    }

    private static boolean hasService(ObjectNode s, String name) {
        for (var svc : s.path("services")) {
            if (svc.path("name").asText().equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** A copy of a status with only service {@code name} and its channels (for --json). */
    private static ObjectNode only(ObjectNode s, String name) {
        ObjectNode c = s.deepCopy();
        var services = c.putArray("services");
        s.path("services").forEach(svc -> {
            if (svc.path("name").asText().equals(name)) {
                services.add(svc);
            }
        });
        var channels = c.putArray("channels");
        s.path("channels").forEach(ch -> {
            if (ch.path("service").asText().equals(name)) {
                channels.add(ch);
            }
        });
        return c;
    }
}
