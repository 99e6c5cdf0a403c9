package io.mancom.cli.bench;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code mancom bench mux}: bulk throughput of N streams of one mux link against one TCP
 * connection without mux, both through ManCom, over loopback, in the same run.
 *
 * <p>Two runtimes in this process: a server with two services, {@code bulk} (mux on) and
 * {@code plain} (mux off), each on its own ephemeral loopback port, whose data receivers count
 * and drop what arrives; and a client whose services dial them. The client opens N streams of
 * {@code bulk} (one link) or one connection of {@code plain}, and every stream or connection
 * writes {@code --size}-byte chunks for as long as it is writable, resuming when its writability
 * listener says so. What is measured is the bytes the server's receivers got per second.
 *
 * <p>The baseline is ManCom's own TCP connection without mux, through the same callback API,
 * runtimes and thread counts: the ratio is then the cost of the mux alone (frames, credit, child
 * channels, preamble routing), not of the API, which {@code bench tcp} measures against Netty.
 *
 * <p>A benchmark, not a test: nothing asserts the figures.
 */
@Command(name = "mux", mixinStandardHelpOptions = true,
        description = {"Bulk throughput of N streams over one mux link against one TCP connection without mux.",
                "",
                "Two ManCom runtimes in this process, over loopback TCP. For each stream count the client opens N"
                        + " streams of one mux link (or one plain ManCom TCP connection, the baseline) and writes"
                        + " --size chunks on each while it is writable; the server's receivers count and drop."
                        + " Reports MB/s (10^6 bytes per second received) and the ratio mux/tcp per run, and the"
                        + " medians. Each run measures every stream count and the baseline next to it."
                        + " Takes about runs x stream counts x 2 x (warmup + seconds), plus an unreported warm-up pass."})
public final class MuxBenchCommand implements Callable<Integer> {
    static final String BULK = "bulk";
    static final String PLAIN = "plain";
    private static final Duration T = Duration.ofSeconds(30);

    @Spec
    private CommandSpec spec;

    @Option(names = "--streams", split = ",", defaultValue = "1,10,100,1000", paramLabel = "N[,N...]",
            description = "Stream counts to measure (default ${DEFAULT-VALUE}).")
    private List<Integer> streams;

    @Option(names = "--size", defaultValue = "65536", paramLabel = "BYTES",
            description = "Bytes per write (default ${DEFAULT-VALUE}).")
    private int size;

    @Mixin
    private BenchOptions.Timing timing = new BenchOptions.Timing(2, 0.5);

    @Mixin
    private BenchOptions.Runs runs = new BenchOptions.Runs(3);

    @Mixin
    private BenchOptions.Threads threads = new BenchOptions.Threads();

    /** One run at one stream count. */
    private record Row(int streams, double tcp, double mux) {
        double ratio() {
            return mux / tcp;
        }
    }

    @Override
    public Integer call() throws Exception {
        validate();
        int threads = this.threads.threads();
        int runs = this.runs.runs();
        double warmup = timing.warmup();
        double seconds = timing.seconds();
        int maxStreams = streams.stream().mapToInt(Integer::intValue).max().orElse(1);
        PrintWriter out = spec.commandLine().getOut();
        long warmupNanos = timing.warmupNanos();
        long measureNanos = timing.measureNanos();

        try (Pair pair = new Pair(threads, maxStreams, size)) {
            pair.check();
            // One unreported pass over every case first: the first run would otherwise measure the JIT.
            long shortNanos = Math.min(measureNanos, 500_000_000L);
            pair.measure(PLAIN, 1, Math.min(warmupNanos, 500_000_000L), shortNanos);
            for (int n : streams) {
                pair.measure(BULK, n, Math.min(warmupNanos, 500_000_000L), shortNanos);
            }
            out.println("ManCom mux benchmark (loopback TCP)");
            out.printf(Locale.ROOT, "  load      %s writes on every stream while it is writable; %s s warm-up, %s s measured%n",
                    Stats.bytes(size), BenchKit.plain(warmup), BenchKit.plain(seconds));
            out.printf(Locale.ROOT, "  threads   %d event-loop thread%s per runtime (client, server); %s%n",
                    threads, threads == 1 ? "" : "s", BenchKit.javaAndCpus());
            out.println("  columns   tcp = one ManCom TCP connection without mux (the baseline), mux = N streams of one"
                    + " mux link; MB/s received");
            out.println();
            out.flush();
            Table table = new Table("  ", "run", "streams>", "tcp MB/s>", "mux MB/s>", "mux/tcp>").minWidth(0, "run".length());
            List<String> printed = new ArrayList<>();
            List<Row> rows = new ArrayList<>();
            for (int r = 1; r <= runs; r++) {
                for (int n : streams) {
                    double tcp;
                    double mux;
                    // Alternate the order, so neither side always runs on a warmer machine.
                    if (r % 2 == 1) {
                        tcp = pair.measure(PLAIN, 1, warmupNanos, measureNanos);
                        mux = pair.measure(BULK, n, warmupNanos, measureNanos);
                    } else {
                        mux = pair.measure(BULK, n, warmupNanos, measureNanos);
                        tcp = pair.measure(PLAIN, 1, warmupNanos, measureNanos);
                    }
                    Row row = new Row(n, tcp, mux);
                    rows.add(row);
                    table.row(Integer.toString(r), Integer.toString(n), BenchKit.mb(tcp), BenchKit.mb(mux), BenchKit.ratio(row.ratio()));
                    BenchKit.printNewLines(out, table, printed);
                }
            }
            out.println();
            Table summary = new Table("  ", "streams>", "tcp MB/s>", "mux MB/s>", "mux/tcp>", "target>", "");
            StringBuilder line = new StringBuilder("summary (median of " + runs + " run" + (runs == 1 ? "" : "s") + "):");
            for (int n : streams) {
                List<Row> of = rows.stream().filter(x -> x.streams() == n).toList();
                double tcp = Stats.median(of.stream().mapToDouble(Row::tcp).toArray());
                double mux = Stats.median(of.stream().mapToDouble(Row::mux).toArray());
                double ratio = Stats.median(of.stream().mapToDouble(Row::ratio).toArray());
                double target = n == 1 ? 0.7 : 0.8;
                summary.row(Integer.toString(n), BenchKit.mb(tcp), BenchKit.mb(mux), BenchKit.ratio(ratio),
                        BenchKit.ratio(target), ratio >= target ? "met" : "MISSED");
                line.append(String.format(Locale.ROOT, " %d stream%s %s,", n, n == 1 ? "" : "s", BenchKit.ratio(ratio)));
            }
            summary.print(out);
            out.println();
            line.setLength(line.length() - 1);
            out.println(line + " of one ManCom TCP connection");
            out.flush();
        }
        return 0;
    }

    private void validate() {
        List<String> problems = new ArrayList<>();
        if (streams == null || streams.isEmpty() || streams.stream().anyMatch(n -> n == null || n < 1 || n > 100_000)) {
            problems.add("--streams must list counts from 1 to 100000: " + streams);
        }
        timing.validate(problems);
        runs.validate(problems);
        if (size < 1 || size > 16 << 20) {
            problems.add("--size must be from 1 to 16777216: " + size);
        }
        threads.validate(problems);
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), String.join("; ", problems));
        }
    }

    /** The server and client runtimes, started once and measured many times. */
    static final class Pair implements AutoCloseable {
        private final ManCom server;
        private final ManCom client;
        private final LongAdder bulkReceived = new LongAdder();
        private final LongAdder plainReceived = new LongAdder();
        private final ByteBuffer payload;

        Pair(int threads, int maxStreams, int size) throws IOException {
            // Every measurement closes its streams before the next opens more; twice the largest
            // count leaves room for CloseStreams still on their way.
            String mux = "mux { enabled = on, max-streams = " + (2 * maxStreams + 16) + " }";
            server = BenchKit.runtime("mancom.services {\n"
                    + "  " + BULK + " { endpoint = \"tcp://127.0.0.1:0\", " + mux + " }\n"
                    + "  " + PLAIN + " { endpoint = \"tcp://127.0.0.1:0\" }\n}\n", threads);
            ManCom c = null;
            try {
                server.registerDataReceiver(BULK, (conn, data) -> bulkReceived.add(data.remaining()));
                server.registerDataReceiver(PLAIN, (conn, data) -> plainReceived.add(data.remaining()));
                server.awaitReady(T);
                EndPoint bulk = BenchKit.bound(server, BULK);
                EndPoint plain = BenchKit.bound(server, PLAIN);
                c = BenchKit.runtime("mancom.services {\n"
                        + "  " + BULK + " { endpoint = \"" + bulk + "\", " + mux + " }\n"
                        + "  " + PLAIN + " { endpoint = \"" + plain + "\" }\n}\n", threads);
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
            client = c;
            byte[] bytes = new byte[size];
            new Random(42).nextBytes(bytes);
            payload = ByteBuffer.allocateDirect(size).put(bytes).flip();
        }

        /** A quick check that both services deliver byte counts as written, before any figure. */
        void check() throws Exception {
            for (String service : List.of(BULK, PLAIN)) {
                LongAdder counter = service.equals(BULK) ? bulkReceived : plainReceived;
                long before = counter.sum();
                Connection c = client.connectAsync(service, (conn, d) -> { }).get(T.toSeconds(), TimeUnit.SECONDS);
                try {
                    c.write(payload.duplicate()).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
                } finally {
                    c.close();
                }
                c.closeFuture().toCompletableFuture().handle((v, t) -> null).get(T.toSeconds(), TimeUnit.SECONDS);
                long deadline = System.nanoTime() + T.toNanos();
                while (counter.sum() - before < payload.remaining()) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("service '" + service + "' received " + (counter.sum() - before) + " of "
                                + payload.remaining() + " bytes written; its figures would mean nothing");
                    }
                    Thread.sleep(1);
                }
            }
        }

        /**
         * Opens {@code n} connections of {@code service}, keeps them writing, and returns the MB/s
         * the server received over the measured interval; then closes them and waits until they are
         * closed.
         */
        double measure(String service, int n, long warmupNanos, long measureNanos) throws Exception {
            LongAdder counter = service.equals(BULK) ? bulkReceived : plainReceived;
            Load load = new Load(payload);
            List<CompletableFuture<Connection>> opening = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                opening.add(client.connectAsync(service, load));
            }
            List<Connection> conns = new ArrayList<>(n);
            try {
                for (CompletableFuture<Connection> f : opening) {
                    conns.add(f.get(T.toSeconds(), TimeUnit.SECONDS));
                }
                for (Connection c : conns) {
                    c.setWritabilityListener((conn, writable) -> {
                        if (writable) {
                            load.pump(conn);
                        }
                    });
                    load.pump(c);
                }
                BenchKit.sleepNanos(warmupNanos);
                load.check(service);
                long c0 = counter.sum();
                long t0 = System.nanoTime();
                BenchKit.sleepNanos(measureNanos);
                BenchKit.IntervalEnd end = BenchKit.endInterval(counter::sum, c0, t0, T, "service '" + service + "' received");
                load.check(service);
                return Stats.mbPerSecond(end.count() - c0, end.nanoTime() - t0);
            } finally {
                load.stopping = true;
                for (CompletableFuture<Connection> f : opening) {
                    f.thenAccept(Connection::close);
                }
                for (CompletableFuture<Connection> f : opening) {
                    try {
                        f.get(T.toSeconds(), TimeUnit.SECONDS).closeFuture().toCompletableFuture()
                                .handle((v, t) -> null).get(T.toSeconds(), TimeUnit.SECONDS);
                    } catch (Exception ignored) {
                        // a connection that did not open has nothing to close
                    }
                }
            }
        }

        @Override
        public void close() {
            try {
                client.close();
            } finally {
                server.close();
            }
        }
    }

    /** What every connection of one measurement writes, and how it reports trouble. */
    private static final class Load implements DataReceiver {
        private final ByteBuffer payload;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile boolean stopping;

        Load(ByteBuffer payload) {
            this.payload = payload;
        }

        /** Writes while the connection is writable (the write copies, so one payload serves all). */
        void pump(Connection c) {
            while (!stopping && c.isWritable()) {
                c.write(payload.duplicate());
            }
        }

        void check(String service) throws IOException {
            Throwable t = failure.get();
            if (t != null) {
                throw new IOException("a connection of service '" + service + "' failed: " + t.getMessage(), t);
            }
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            if (!stopping) {
                failure.compareAndSet(null, cause != null ? cause : new IOException("closed by the server"));
            }
        }
    }
}
