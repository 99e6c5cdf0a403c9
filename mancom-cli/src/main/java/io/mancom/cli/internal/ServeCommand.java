package io.mancom.cli.internal;

import io.mancom.ConfigException;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.core.spi.ConfigTools;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.proxy.HttpProxyHandler;
import io.mancom.proxy.ProxyConfig;
import io.mancom.spi.TransportProvider;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code mancom serve}: runs every configured service with its built-in handler ({@code handler =
 * echo | discard}) until the process is interrupted or terminated.
 *
 * <h2>Lifecycle</h2>
 * The configuration is read (for each service's handler) and the runtime started through the
 * public API ({@link ManCom.Builder#start()}) before anything process-wide is touched: a runtime
 * that cannot be made (a config error such as two services on one endpoint without mux) is
 * reported and the command returns at once. Only then are SIGTERM and SIGINT taken over
 * ({@link StopRequest}) and a shutdown hook added, both released when the command returns. A
 * signal only asks the command to stop; the command's own thread closes the runtime, so closing
 * happens once, in one place, and a stop by SIGTERM or SIGINT returns 0.
 *
 * <h2>Failures</h2>
 * If any service does not start within {@code --ready-timeout} (a port taken, a device missing)
 * the command closes everything and fails with the cause (exit 1), unless {@code --keep-going}
 * keeps the services that did start. The built-in {@code demo} service is served only when no
 * other service is configured.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run every configured service with its built-in handler until interrupted.",
                "",
                "Serves each service of the effective configuration with the handler its config block names:"
                        + " handler = echo (send every byte back, the default), discard (read and drop), forward"
                        + " (relay to the service's forward endpoint, docs/port-sharing.md), http-proxy (HTTP/1.1"
                        + " clients onto one upstream connection, docs/proxy.md) or tunnel (each connection a stream"
                        + " on the mux link of the service named by via, docs/proxy.md). The built-in"
                        + " 'demo' service is served only when no other service is configured. Prints where each service"
                        + " is served, then runs until Ctrl-C (SIGINT) or SIGTERM, closes every connection and port, and"
                        + " exits 0.",
                "",
                "If a service cannot start (its port is taken, its device is missing) within --ready-timeout,"
                        + " serve stops everything and exits 1 with the cause, unless --keep-going."})
final class ServeCommand implements Callable<Integer> {
    /** The service reference.conf defines, for trying ManCom out. */
    private static final String DEMO = "demo";
    /** The widest line the listing may print: it must fit a 100-column terminal. */
    static final int MAX_WIDTH = 100;

    @Spec
    private CommandSpec spec;

    @Mixin
    private ConfigOption config;

    @Option(names = "--ready-timeout", defaultValue = "10", paramLabel = "SECONDS",
            description = "How long to wait for every service to start before giving up (default ${DEFAULT-VALUE}).")
    private int readyTimeoutSeconds;

    @Option(names = "--keep-going",
            description = "When some services cannot start, report them and keep serving the others"
                    + " (default: stop and exit 1).")
    private boolean keepGoing;

    private final StopRequest stop = new StopRequest("serve");
    private final CountDownLatch serving = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        if (readyTimeoutSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--ready-timeout must be at least 1: " + readyTimeoutSeconds);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RuntimeSettings settings = ConfigTools.load(config.options());
        List<ServiceSettings> services = served(settings);
        List<HttpProxyHandler> proxies = new ArrayList<>();
        // Resources close in reverse: the proxies (waiting requests get 502, upstream connections
        // close) while the runtime's loops still run, then the runtime.
        try (ManCom mancom = config.builder().start();
             AutoCloseable closeProxies = () -> proxies.forEach(HttpProxyHandler::close)) {
            for (ServiceSettings s : services) {
                if (s.handler().equals("forward") && mancom instanceof ManComRuntime runtime) {
                    // A relay takes the service's links itself (docs/port-sharing.md).
                    runtime.handleLinks(s.name(), runtime.forwarder(s.name()));
                } else if (s.handler().equals("tunnel") && mancom instanceof ManComRuntime runtime) {
                    // A tunnel too: each link becomes a stream on its uplink's mux link (docs/proxy.md).
                    runtime.handleLinks(s.name(), runtime.tunneller(s.name()));
                } else if (s.handler().equals(ProxyConfig.HANDLER) && mancom instanceof ManComRuntime runtime) {
                    // So does the HTTP proxy; its upstream connections live on the runtime's loops (docs/proxy.md).
                    HttpProxyHandler proxy = HttpProxyHandler.forService(s, runtime.unwrap(NettyRuntime.class));
                    proxies.add(proxy);
                    runtime.handleLinks(s.name(), proxy);
                } else {
                    mancom.registerDataReceiver(s.name(), handler(s));
                }
            }
            awaitReady(mancom, services, err);
            printListing(out, mancom, services);
            serveUntilStopped(out);
        } finally {
            stop.stopped();
        }
        out.println("Stopped.");
        out.flush();
        return ExitCode.OK.code();
    }

    /**
     * The services to serve: every configured one, but the built-in {@code demo} only when it is
     * the only one (a user's services should not share the process with a demo that keeps it alive).
     */
    private static List<ServiceSettings> served(RuntimeSettings settings) {
        List<ServiceSettings> all = List.copyOf(settings.services().values());
        if (all.isEmpty()) {
            throw new ConfigException(null, -1, "mancom.services", "no service is configured; add one, for example "
                    + "mancom.services.echo { endpoint = \"tcp://0.0.0.0:7000\", handler = echo }");
        }
        if (all.size() > 1 && isBuiltInDemo(settings)) {
            return all.stream().filter(s -> !s.name().equals(DEMO)).toList();
        }
        return all;
    }

    /** Whether the {@code demo} service is the one the jars define (its endpoint set by no user file). */
    private static boolean isBuiltInDemo(RuntimeSettings settings) {
        String key = "mancom.services." + DEMO + ".endpoint";
        return settings.services().containsKey(DEMO) && settings.config().hasPath(key)
                && settings.config().getValue(key).origin().resource() != null;
    }

    private void awaitReady(ManCom mancom, List<ServiceSettings> services, PrintWriter err) throws ManComException {
        try {
            mancom.awaitReady(Duration.ofSeconds(readyTimeoutSeconds));
        } catch (ManComException e) {
            boolean someServing = services.stream().anyMatch(s -> mancom.boundEndPoint(s.name()).isPresent());
            if (!keepGoing || !someServing) {
                throw e;
            }
            // --keep-going: serve what can be served; a device that is not plugged in yet may come later.
            err.println("mancom serve: " + e.getMessage());
            err.println("mancom serve: --keep-going: serving the services that started");
            err.flush();
        }
    }

    /**
     * Where each service is served, in at most {@value #MAX_WIDTH} columns: one row per service, or,
     * when an endpoint is too long for that (serial ports named by id are), the endpoint on a line
     * of its own under its service.
     */
    private static void printListing(PrintWriter out, ManCom mancom, List<ServiceSettings> services) {
        Table t = new Table("  ", "service", "handler", "serving on");
        Table narrow = new Table("  ", "service", "handler");
        List<String> where = new ArrayList<>();
        for (ServiceSettings s : services) {
            Optional<EndPoint> bound = mancom.boundEndPoint(s.name());
            String at = bound.map(EndpointText::brief).orElse(EndpointText.brief(s.endpoint()) + " (not serving)");
            t.row(s.name(), s.handler(), at);
            narrow.row(s.name(), s.handler());
            where.add(at);
        }
        int n = services.size();
        out.println("mancom serve: " + n + (n == 1 ? " service" : " services") + " (transports installed: "
                + String.join(", ", transportSchemes()) + ")");
        List<String> lines = t.lines();
        if (lines.stream().allMatch(l -> l.length() <= MAX_WIDTH)) {
            lines.forEach(out::println);
        } else {
            List<String> rows = narrow.lines();
            out.println(rows.get(0) + "   (serving on: the line below)");
            for (int i = 0; i < where.size(); i++) {
                out.println(rows.get(i + 1));
                out.println("    " + where.get(i));
            }
        }
        out.flush();
    }

    /**
     * Waits for a stop: {@link #stop()}, SIGTERM or SIGINT ({@link StopRequest}), or the JVM shutting
     * down for another reason (the hook, which then waits until the runtime is closed). The hook and
     * the handlers exist only while this method runs, after the runtime was made.
     */
    private void serveUntilStopped(PrintWriter out) throws InterruptedException {
        stop.await(() -> {
            out.println("Serving until interrupted (Ctrl-C or SIGTERM).");
            out.flush();
            serving.countDown();
        });
        out.println("Stopping: closing every connection and port.");
        out.flush();
    }

    /** The schemes of the transports on the class path, found the way the runtime finds them. */
    private static List<String> transportSchemes() {
        TreeSet<String> schemes = new TreeSet<>();
        for (ServiceLoader.Provider<TransportProvider> p
                : ServiceLoader.load(TransportProvider.class, ServeCommand.class.getClassLoader()).stream().toList()) {
            try {
                schemes.add(p.get().scheme().toLowerCase(Locale.ROOT));
            } catch (RuntimeException | LinkageError broken) {
                // The runtime reports a broken provider when a service needs it; the listing just omits it.
            }
        }
        return List.copyOf(schemes);
    }

    private static DataReceiver handler(ServiceSettings s) {
        switch (s.handler()) {
            case "echo":
                return (conn, data) -> conn.write(data);
            case "discard":
                return (conn, data) -> { };
            default:
                // The loader validates handler; this guards against a new value without a handler here.
                throw new ConfigException(null, -1, "mancom.services." + s.name() + ".handler",
                        "found \"" + s.handler() + "\" but expected one of: echo, discard, forward, http-proxy, tunnel");
        }
    }

    /** Asks a running {@code serve} to close everything and return; for tests and embedding. */
    void stop() {
        stop.stop();
    }

    /** Waits until every service is serving (or reported as not serving); for tests. */
    boolean awaitServing(long timeout, TimeUnit unit) throws InterruptedException {
        return serving.await(timeout, unit);
    }
}
