package io.mancom.cli.internal;

import io.mancom.ConfigException;
import io.mancom.DataReceiver;
import io.mancom.ManComException;
import io.mancom.core.config.ConfigLoader;
import io.mancom.core.config.RuntimeSettings;
import io.mancom.core.config.ServiceSettings;
import io.mancom.core.internal.ManComRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code mancom serve}: runs every configured service with its built-in handler ({@code handler =
 * echo | discard}) until the process is interrupted or terminated.
 *
 * <p>The shutdown hook only asks the command to stop and waits for it: the command's own thread
 * closes the runtime, so closing happens once, in one place, whether the stop came from a signal
 * or from {@link #stop()}.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run every configured service with its built-in handler until interrupted.",
                "",
                "Serves each service of the effective configuration with the handler its config block names:"
                        + " handler = echo (send every byte back, the default) or discard (read and drop). Prints where"
                        + " each service listens, then runs until Ctrl-C (SIGINT) or SIGTERM, and closes every"
                        + " connection and port before it exits."})
final class ServeCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ConfigOption config;

    @Option(names = "--ready-timeout", defaultValue = "10", paramLabel = "SECONDS",
            description = "How long to wait for every service to listen before reporting those that do not (default ${DEFAULT-VALUE}).")
    private int readyTimeoutSeconds;

    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final CountDownLatch serving = new CountDownLatch(1);

    @Override
    public Integer call() throws Exception {
        if (readyTimeoutSeconds < 1) {
            throw new ParameterException(spec.commandLine(), "--ready-timeout must be at least 1: " + readyTimeoutSeconds);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        RuntimeSettings settings = ConfigLoader.load(config.builder());
        if (settings.services().isEmpty()) {
            throw new ConfigException(null, -1, "mancom.services", "no service is configured; add one, for example "
                    + "mancom.services.echo { endpoint = \"tcp://0.0.0.0:7000\", handler = echo }");
        }
        Thread hook = new Thread(this::stopAndWait, "mancom-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        ManComRuntime mancom = new ManComRuntime(settings, 0);
        try {
            for (ServiceSettings s : settings.services().values()) {
                mancom.registerDataReceiver(s.name(), handler(s));
            }
            try {
                mancom.awaitReady(Duration.ofSeconds(readyTimeoutSeconds));
            } catch (ManComException e) {
                if (settings.services().keySet().stream().noneMatch(n -> mancom.boundEndPoint(n).isPresent())) {
                    throw e;
                }
                // Serve what can be served: a device that is not plugged in yet may come later.
                err.println("mancom serve: " + e.getMessage());
            }
            Table t = new Table("  ", "service", "handler", "endpoint", "listening on");
            for (ServiceSettings s : settings.services().values()) {
                t.row(s.name(), s.handler(), s.endpoint(),
                        mancom.boundEndPoint(s.name()).map(Object::toString).orElse("(not serving)"));
            }
            int n = settings.services().size();
            out.println("mancom serve: " + n + (n == 1 ? " service" : " services") + " (transports installed: "
                    + String.join(", ", mancom.transportSchemes()) + ")");
            t.print(out);
            out.println("Serving until interrupted (Ctrl-C).");
            out.flush();
            serving.countDown();
            stop.await();
            out.println("Stopping: closing every connection and port.");
            out.flush();
        } finally {
            mancom.close();
            stopped.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running (a signal stopped us); it ends once stopped is counted down.
            }
        }
        out.println("Stopped.");
        out.flush();
        return 0;
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
                        "found \"" + s.handler() + "\" but expected one of: echo, discard");
        }
    }

    /** Asks a running {@code serve} to close everything and return; for tests and embedding. */
    void stop() {
        stop.countDown();
    }

    /** Waits until every service is serving (or reported as not serving); for tests. */
    boolean awaitServing(long timeout, TimeUnit unit) throws InterruptedException {
        return serving.await(timeout, unit);
    }

    private void stopAndWait() {
        stop.countDown();
        try {
            // Bounded: a JVM being terminated should not hang on a runtime that will not close.
            stopped.await(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
