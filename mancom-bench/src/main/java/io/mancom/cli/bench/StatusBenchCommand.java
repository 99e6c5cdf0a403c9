package io.mancom.cli.bench;

import io.mancom.Connection;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.cli.internal.Stats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * {@code mancom bench status}: how long a runtime with many open mux streams takes to answer
 * {@code GET /status} on its control socket (the issue's target: 10,000 streams in under a
 * second). A ManCom server and a ManCom client in this process; the client opens the streams over
 * one TCP link, then asks the server's control socket for {@code /status} (and {@code /metrics})
 * several times over a plain Unix socket, timing each answer to its last byte.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Time of GET /status (and /metrics) on the control socket of a runtime with many open mux streams.",
                "",
                "Opens --streams mux streams from a ManCom client to a ManCom server over one loopback TCP link, then"
                        + " times --requests answers of the server's control socket, each to its last byte."})
public final class StatusBenchCommand implements java.util.concurrent.Callable<Integer> {
    private static final Duration T = Duration.ofSeconds(120);
    private static final String SERVICE = "bench";

    @Spec
    private CommandSpec spec;

    @Option(names = "--streams", defaultValue = "10000", paramLabel = "N",
            description = "Open mux streams while the status is asked for (default ${DEFAULT-VALUE}).")
    private int streams;

    @Option(names = "--requests", defaultValue = "5", paramLabel = "R",
            description = "Timed requests per route (default ${DEFAULT-VALUE}).")
    private int requests;

    @Override
    public Integer call() throws Exception {
        if (streams < 1 || streams > 1_000_000 || requests < 1 || requests > 1000) {
            throw new ParameterException(spec.commandLine(), "--streams must be from 1 to 1000000 and --requests from 1 to 1000");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("mancom-bench-status");
        String mux = "mux { enabled = on, max-streams = " + (streams + 16) + ", accept-backlog = 1024 }";
        try (ManCom server = runtime(dir, "tcp://127.0.0.1:0", mux)) {
            server.registerDataReceiver(SERVICE, (c, d) -> { });
            server.awaitReady(T);
            int port = ((TcpAddress) server.boundEndPoint(SERVICE).orElseThrow().address()).port();
            Path socket = ((ManComRuntime) server).controlSocket().orElseThrow(
                    () -> new IOException("the server runtime serves no control socket (it needs native epoll)"));
            try (ManCom client = runtime(dir, "tcp://127.0.0.1:" + port, mux)) {
                long opening = System.nanoTime();
                List<Connection> held = openAll(client, streams);
                out.printf(Locale.ROOT, "opened %d mux streams in %.1f s%n", held.size(), (System.nanoTime() - opening) / 1e9);
                // A stream is open on the client when its OpenStream is sent; the server takes it a
                // moment later. Time the answers once the server has every one.
                long deadline = System.nanoTime() + T.toNanos();
                int open;
                while ((open = server.status().service(SERVICE).orElseThrow().muxStreamsOpen()) < held.size()) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("the server has " + open + " of " + held.size() + " streams after " + T);
                    }
                    Thread.sleep(50);
                }
                out.printf(Locale.ROOT, "server: %d streams open%n", open);
                time(out, socket, "/status", requests);
                time(out, socket, "/metrics", requests);
                long t0 = System.nanoTime();
                int channels = server.status().channels().size();
                out.printf(Locale.ROOT, "ManCom.status() in process: %.1f ms (%d channels)%n", (System.nanoTime() - t0) / 1e6, channels);
                out.flush();
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return 0;
    }

    private static ManCom runtime(Path dir, String endpoint, String mux) throws IOException {
        Path conf = Files.createTempFile(dir, "mancom-bench", ".conf");
        Files.writeString(conf, "mancom.services." + SERVICE + " { endpoint = \"" + endpoint + "\", " + mux + " }\n"
                + "mancom.runtime-dir = \"" + dir.resolve("run") + "\"\n");
        return ManCom.builder().configFile(conf).start();
    }

    private static void time(PrintWriter out, Path socket, String route, int n) throws IOException {
        double[] ms = new double[n];
        long bytes = 0;
        get(socket, route); // warm-up
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            bytes = get(socket, route);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        out.printf(Locale.ROOT, "GET %-8s median %.0f ms, max %.0f ms (%s, %d requests)%n", route, Stats.median(ms),
                java.util.Arrays.stream(ms).max().orElse(0), Stats.bytes(bytes), n);
        out.flush();
    }

    /** One request on a new connection; the answer's size in bytes, read to the end. */
    private static long get(Path socket, String route) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(("GET " + route + " HTTP/1.1\r\nHost: mancom\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream answer = new ByteArrayOutputStream(1 << 20);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            while (ch.read(buf) >= 0) {
                answer.write(buf.array(), 0, buf.position());
                buf.clear();
            }
            String head = answer.toString(StandardCharsets.ISO_8859_1);
            if (!head.startsWith("HTTP/1.1 200")) {
                throw new IOException("GET " + route + ": " + head.lines().findFirst().orElse("no answer"));
            }
            return answer.size();
        }
    }

    /** Opens {@code n} streams with at most 1,000 opens in flight. */
    private static List<Connection> openAll(ManCom client, int n) throws Exception {
        List<Connection> held = java.util.Collections.synchronizedList(new ArrayList<>(n));
        Semaphore inFlight = new Semaphore(1000);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 0; i < n && failure.get() == null; i++) {
            if (!inFlight.tryAcquire(T.toSeconds(), TimeUnit.SECONDS)) {
                throw new IOException("opening stream " + i + " took longer than " + T);
            }
            CompletableFuture<Connection> f = client.connectAsync(SERVICE, (c, d) -> { });
            f.whenComplete((c, err) -> {
                if (err != null) {
                    failure.compareAndSet(null, err);
                } else {
                    held.add(c);
                }
                inFlight.release();
            });
        }
        if (!inFlight.tryAcquire(1000, T.toSeconds(), TimeUnit.SECONDS)) {
            throw new IOException("the last stream opens did not finish within " + T);
        }
        if (failure.get() != null) {
            throw new IOException("opening a stream failed: " + failure.get().getMessage(), failure.get());
        }
        return held;
    }
}
