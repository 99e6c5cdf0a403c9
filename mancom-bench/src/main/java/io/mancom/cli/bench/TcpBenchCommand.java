package io.mancom.cli.bench;

import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code mancom bench tcp}: echo throughput of ManCom's callback and blocking APIs against a plain
 * Netty echo server, driven by one plain Netty load generator, in one process.
 *
 * <h2>Method</h2>
 * The three servers start once, with the same kind and number of event-loop threads, and each is
 * checked to echo byte-exact. Each run then measures them in turn (netty, callback, blocking): the
 * load generator opens its connections, warms up, counts the echoed bytes over the measured
 * interval and closes them. Alternating within a run spreads drift (JIT, CPU frequency, other
 * load) over all three instead of favouring one. The report gives each server's median MB/s and
 * the median over runs of the per-run ratios to plain Netty, which is steadier than a ratio of
 * medians when the machine's speed moves between runs.
 *
 * <p>This is a benchmark, not a test: nothing asserts the figures, and it takes about
 * {@code runs x 5 x (warmup + seconds)}: a fourth server, the callback API on a runtime
 * without monitoring's counters, is measured next to the counted one in every run, and the
 * "monitoring:" line gives the median of the per-run ratios (the cost of counting). The
 * "monitoring cpu:" line compares the same two servers by their event loops' CPU time per MB
 * echoed, which a machine busy with other work disturbs far less than throughput, and the
 * "monitoring alloc:" line by the heap they allocate per MB, which load does not disturb at all.
 * A fifth server, plain {@code java.net} sockets with a thread per connection, is the blocking
 * API's reference: the same model without an event loop between the socket and the thread
 * ("plain sockets:" line), and "server cpu:" gives the CPU time per MB of all of a server's threads
 * (loops and application threads) for plain Netty, the blocking API and plain sockets.
 */
@Command(name = "tcp", mixinStandardHelpOptions = true,
        description = {"Echo throughput of ManCom's two APIs against plain Netty, over loopback TCP.",
                "",
                "Runs three echo servers in this process: plain Netty, ManCom's callback API and ManCom's blocking"
                        + " API, with the same event-loop type and thread count. One plain Netty client drives each in"
                        + " turn (alternating within every run) with a fixed window of bytes in flight per connection."
                        + " Reports MB/s (10^6 bytes per second of echoed data, each way) per server and the median of"
                        + " the per-run ratios to plain Netty, and the callback API's throughput with monitoring's counters"
                        + " on and off (a fourth server, measured in the same runs), also as the servers' CPU time per MB,"
                        + " and a fifth, plain java.net sockets with a thread per connection: what the blocking model"
                        + " reaches without an event loop, with every server's CPU time per MB."
                        + " Takes about runs x 5 x"
                        + " (warmup + seconds)."})
public final class TcpBenchCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--seconds", defaultValue = "2", paramLabel = "S",
            description = "Measured seconds per server per run (default ${DEFAULT-VALUE}).")
    private double seconds;

    @Option(names = "--warmup", defaultValue = "1", paramLabel = "S",
            description = "Seconds of load before each measurement starts (default ${DEFAULT-VALUE}).")
    private double warmup;

    @Option(names = "--runs", defaultValue = "5", paramLabel = "R",
            description = "Runs; each measures every server once (default ${DEFAULT-VALUE}).")
    private int runs;

    @Option(names = "--connections", defaultValue = "4", paramLabel = "C",
            description = "Connections of the load generator (default ${DEFAULT-VALUE}).")
    private int connections;

    @Option(names = "--size", defaultValue = "16384", paramLabel = "BYTES",
            description = "Bytes per write of the load generator (default ${DEFAULT-VALUE}).")
    private int size;

    @Option(names = "--window", defaultValue = "262144", paramLabel = "BYTES",
            description = "Bytes each connection keeps in flight (default ${DEFAULT-VALUE}).")
    private int window;

    @Option(names = "--round-trips", defaultValue = "2000", paramLabel = "N",
            description = "Small-message round trips timed per server per run, after the throughput "
                    + "(default ${DEFAULT-VALUE}; 0: none).")
    private int roundTrips;

    @Option(names = "--io-threads", paramLabel = "N",
            description = "Event-loop threads of each server and of the load generator (default: half the CPUs, at least 1).")
    private Integer ioThreads;

    /** One run: MB/s of netty, callback, blocking. */
    private record Run(double netty, double callback, double blocking) {
        double callbackRatio() {
            return callback / netty;
        }

        double blockingRatio() {
            return blocking / netty;
        }
    }

    /**
     * One run against the blocking API's reference: MB/s of netty, blocking and plain sockets, and
     * the CPU microseconds per MB of all their threads.
     */
    private record Reference(double netty, double blocking, double plain, double nettyCpu, double blockingCpu,
                             double plainCpu) {
    }

    @Override
    public Integer call() throws Exception {
        validate();
        int threads = ioThreads != null ? ioThreads : Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        PrintWriter out = spec.commandLine().getOut();
        long warmupNanos = (long) (warmup * 1e9);
        long measureNanos = (long) (seconds * 1e9);

        List<EchoServer> servers = new ArrayList<>();
        try {
            ManComServers.Callback callback = new ManComServers.Callback(threads);
            servers.add(callback);
            boolean epoll = callback.isNative();
            servers.add(0, new NettyEchoServer(threads, epoll));
            servers.add(new ManComServers.Blocking(threads));
            EchoServer uncounted = uncountedCallback(threads);
            servers.add(uncounted); // after the three the main table reads
            servers.add(new JdkBlockingEchoServer()); // the blocking API's reference
            for (EchoServer s : servers) {
                checkEcho(s);
            }
            // Per run: callback MB/s with counters, without; server CPU µs per MB with counters, without;
            // server heap allocated per MB with counters, without.
            List<double[]> monitoring = new ArrayList<>();
            try (LoadGenerator load = new LoadGenerator(threads, epoll, connections, size, window)) {
                printHeader(out, threads, epoll);
                Table table = table();
                List<String> printed = new ArrayList<>();
                List<Run> results = new ArrayList<>();
                List<double[]> trips = new ArrayList<>(); // per run: µs per round trip, callback and blocking
                List<Reference> plain = new ArrayList<>();
                for (int r = 1; r <= runs; r++) {
                    double[] mbs = new double[servers.size()];
                    double[] cpu = new double[servers.size()];
                    double[] alloc = new double[servers.size()];
                    double[] all = new double[servers.size()];
                    for (int k = 0; k < servers.size(); k++) {
                        // The uncounted callback server goes right before the counted one in odd
                        // runs and right after it in even ones, so neither gains from the order.
                        int i = (r % 2 == 1 ? OFF_FIRST : OFF_SECOND)[k];
                        EchoServer s = servers.get(i);
                        LoadGenerator.Measurement m = load.measure(s.name(), s.address(), warmupNanos, measureNanos);
                        mbs[i] = m.mbPerSecond();
                        cpu[i] = m.serverCpuMicrosPerMb();
                        alloc[i] = m.serverAllocatedPerMb();
                        all[i] = m.serverThreadsCpuMicrosPerMb();
                    }
                    monitoring.add(new double[]{mbs[1], mbs[3], cpu[1], cpu[3], alloc[1], alloc[3]});
                    plain.add(new Reference(mbs[0], mbs[2], mbs[4], all[0], all[2], all[4]));
                    Run run = new Run(mbs[0], mbs[1], mbs[2]);
                    results.add(run);
                    if (roundTrips > 0) {
                        trips.add(new double[]{roundTripMicros(servers.get(1), roundTrips), roundTripMicros(servers.get(2), roundTrips)});
                    }
                    table.row(Integer.toString(r), mb(run.netty()), mb(run.callback()), mb(run.blocking()),
                            ratio(run.callbackRatio()), ratio(run.blockingRatio()));
                    // Print as each run finishes: a long benchmark should show it is alive.
                    printNewLines(out, table, printed);
                }
                double netty = Stats.median(results.stream().mapToDouble(Run::netty).toArray());
                double callbackMb = Stats.median(results.stream().mapToDouble(Run::callback).toArray());
                double blockingMb = Stats.median(results.stream().mapToDouble(Run::blocking).toArray());
                double callbackRatio = Stats.median(results.stream().mapToDouble(Run::callbackRatio).toArray());
                double blockingRatio = Stats.median(results.stream().mapToDouble(Run::blockingRatio).toArray());
                table.row("median", mb(netty), mb(callbackMb), mb(blockingMb), ratio(callbackRatio), ratio(blockingRatio));
                printNewLines(out, table, printed);
                out.println();
                out.printf(Locale.ROOT, "summary: callback API %s of plain Netty, blocking API %s"
                                + " (median of %d run%s; plain Netty %s MB/s over %s with %d connections x %s writes)%n",
                        ratio(callbackRatio), ratio(blockingRatio), runs, runs == 1 ? "" : "s", mb(netty),
                        epoll ? "epoll" : "NIO", connections, Stats.bytes(size));
                printMonitoring(out, monitoring);
                out.printf(Locale.ROOT, "plain sockets: %s MB/s, %s of plain Netty; blocking API %s of plain sockets"
                                + " (java.net sockets, a thread per connection: the blocking model without an event loop;"
                                + " median of %d run%s)%n",
                        mb(Stats.median(plain.stream().mapToDouble(Reference::plain).toArray())),
                        ratio(Stats.median(plain.stream().mapToDouble(p -> p.plain() / p.netty()).toArray())),
                        ratio(Stats.median(plain.stream().mapToDouble(p -> p.blocking() / p.plain()).toArray())), runs,
                        runs == 1 ? "" : "s");
                // CPU per byte decides the throughput where the CPUs are the limit (a small machine
                // running the load generator too), and moves far less with other load than throughput.
                out.printf(Locale.ROOT, "server cpu: us per MB echoed, all the server's threads: netty %.0f, blocking %.0f,"
                                + " plain sockets %.0f (median of %d run%s)%n",
                        Stats.median(plain.stream().mapToDouble(Reference::nettyCpu).toArray()),
                        Stats.median(plain.stream().mapToDouble(Reference::blockingCpu).toArray()),
                        Stats.median(plain.stream().mapToDouble(Reference::plainCpu).toArray()), runs, runs == 1 ? "" : "s");
                if (!trips.isEmpty()) {
                    double cb = Stats.median(trips.stream().mapToDouble(t -> t[0]).toArray());
                    double bl = Stats.median(trips.stream().mapToDouble(t -> t[1]).toArray());
                    double ratio = Stats.median(trips.stream().mapToDouble(t -> t[1] / t[0]).toArray());
                    out.printf(Locale.ROOT, "round trip: callback API %.1f us, blocking API %.1f us, blocking/callback %s"
                                    + " (%d-byte echo on one connection, %d per server per run, median of %d run%s)%n",
                            cb, bl, ratio(ratio), ROUND_TRIP_BYTES, roundTrips, trips.size(), trips.size() == 1 ? "" : "s");
                }
                out.flush();
            }
        } finally {
            for (EchoServer s : servers) {
                s.close();
            }
        }
        return 0;
    }

    private static final int ROUND_TRIP_BYTES = 16;

    /**
     * The callback server again, on a runtime started with counting off: the monitor
     * reads {@code -Dio.mancom.counters} once per runtime, when the runtime starts, so setting it
     * around this one start compares the two in one process (see docs/monitoring.md).
     */
    private static EchoServer uncountedCallback(int threads) throws Exception {
        String before = System.getProperty(COUNTERS);
        System.setProperty(COUNTERS, "false");
        try {
            ManComServers.Callback server = new ManComServers.Callback(threads);
            return new EchoServer() {
                @Override
                public String name() {
                    return "callback, monitoring off";
                }

                @Override
                public InetSocketAddress address() {
                    return server.address();
                }

                @Override
                public void close() {
                    server.close();
                }
            };
        } finally {
            if (before == null) {
                System.clearProperty(COUNTERS);
            } else {
                System.setProperty(COUNTERS, before);
            }
        }
    }

    private static final String COUNTERS = "io.mancom.counters";
    /**
     * The order of the servers in a run: netty, then the two callback servers in turn, then blocking
     * and plain sockets in turn.
     */
    private static final int[] OFF_FIRST = {0, 3, 1, 2, 4};
    private static final int[] OFF_SECOND = {0, 1, 3, 4, 2};

    /** The callback API with and without monitoring's counters, measured in the same runs. */
    private static void printMonitoring(PrintWriter out, List<double[]> runs) {
        double on = Stats.median(runs.stream().mapToDouble(r -> r[0]).toArray());
        double off = Stats.median(runs.stream().mapToDouble(r -> r[1]).toArray());
        double ratio = Stats.median(runs.stream().mapToDouble(r -> r[0] / r[1]).toArray());
        StringBuilder each = new StringBuilder();
        for (double[] r : runs) {
            each.append(each.length() == 0 ? "" : " ").append(ratio(r[0] / r[1]));
        }
        out.printf(Locale.ROOT, "monitoring: callback API %s MB/s with counters, %s MB/s without, on/off %s"
                        + " (median of %d run%s; per run: %s)%n",
                mb(on), mb(off), ratio(ratio), runs.size(), runs.size() == 1 ? "" : "s", each);
        // The same comparison in the servers' CPU time per byte, which a busy machine disturbs far
        // less than throughput: off/on is the throughput ratio counting allows where CPU is the limit.
        double cpuOn = Stats.median(runs.stream().mapToDouble(r -> r[2]).toArray());
        double cpuOff = Stats.median(runs.stream().mapToDouble(r -> r[3]).toArray());
        double cpuRatio = Stats.median(runs.stream().mapToDouble(r -> r[3] / r[2]).toArray());
        StringBuilder cpuEach = new StringBuilder();
        for (double[] r : runs) {
            cpuEach.append(cpuEach.length() == 0 ? "" : " ").append(ratio(r[3] / r[2]));
        }
        out.printf(Locale.ROOT, "monitoring cpu: server event loops %.0f us per MB echoed with counters, %.0f us without,"
                        + " off/on %s (median of %d run%s; per run: %s)%n",
                cpuOn, cpuOff, ratio(cpuRatio), runs.size(), runs.size() == 1 ? "" : "s", cpuEach);
        out.printf(Locale.ROOT, "monitoring alloc: server event loops %.0f bytes allocated per MB echoed with counters,"
                        + " %.0f without (median of %d run%s)%n",
                Stats.median(runs.stream().mapToDouble(r -> r[4]).toArray()),
                Stats.median(runs.stream().mapToDouble(r -> r[5]).toArray()), runs.size(), runs.size() == 1 ? "" : "s");
    }

    /**
     * Mean microseconds of one small-message round trip (write {@value #ROUND_TRIP_BYTES} bytes,
     * read their echo) on one plain socket with no delay, after as many again to warm up: what a
     * request/response peer waits, where the throughput figure is about bytes in flight.
     */
    private static double roundTripMicros(EchoServer server, int count) throws IOException {
        byte[] msg = new byte[ROUND_TRIP_BYTES];
        byte[] back = new byte[ROUND_TRIP_BYTES];
        InetSocketAddress at = server.address();
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            long start = 0;
            for (int i = -count; i < count; i++) {
                if (i == 0) {
                    start = System.nanoTime();
                }
                msg[0] = (byte) i;
                out.write(msg);
                int off = 0;
                while (off < back.length) {
                    int n = in.read(back, off, back.length - off);
                    if (n < 0) {
                        throw new IOException("the " + server.name() + " echo server closed during the round trips");
                    }
                    off += n;
                }
                if (back[0] != msg[0]) {
                    throw new IOException("the " + server.name() + " echo server answered out of order");
                }
            }
            return (System.nanoTime() - start) / 1e3 / count;
        }
    }

    private void validate() {
        List<String> problems = new ArrayList<>();
        if (roundTrips < 0 || roundTrips > 10_000_000) {
            problems.add("--round-trips must be from 0 to 10000000: " + roundTrips);
        }
        if (!(seconds > 0) || seconds > 3600) {
            problems.add("--seconds must be above 0 and at most 3600: " + seconds);
        }
        if (!(warmup >= 0) || warmup > 3600) {
            problems.add("--warmup must be from 0 to 3600: " + warmup);
        }
        if (runs < 1 || runs > 1000) {
            problems.add("--runs must be from 1 to 1000: " + runs);
        }
        if (connections < 1 || connections > 10_000) {
            problems.add("--connections must be from 1 to 10000: " + connections);
        }
        if (size < 1 || size > 16 << 20) {
            problems.add("--size must be from 1 to 16777216: " + size);
        }
        if (window < size || window > 1 << 30) {
            problems.add("--window must be at least --size (" + size + ") and at most 1073741824: " + window);
        }
        if (ioThreads != null && (ioThreads < 1 || ioThreads > 256)) {
            problems.add("--io-threads must be from 1 to 256: " + ioThreads);
        }
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), String.join("; ", problems));
        }
    }

    /**
     * A quick correctness check before any figure is taken: a server that does not echo exactly
     * would make its throughput meaningless. Plain blocking sockets, independent of what is measured.
     */
    private static void checkEcho(EchoServer server) throws IOException {
        byte[] sent = new byte[64 * 1024];
        new Random(7).nextBytes(sent);
        byte[] got = new byte[sent.length];
        InetSocketAddress at = server.address();
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(sent);
            out.flush();
            int off = 0;
            while (off < got.length) {
                int n = in.read(got, off, got.length - off);
                if (n < 0) {
                    break;
                }
                off += n;
            }
            if (off != got.length || !Arrays.equals(sent, got)) {
                throw new IOException("the " + server.name() + " echo server did not echo 64 KiB byte-exact ("
                        + off + " bytes came back); its figures would mean nothing");
            }
        }
    }

    private void printHeader(PrintWriter out, int threads, boolean epoll) {
        out.println("ManCom TCP echo benchmark");
        out.printf(Locale.ROOT, "  load      %d connections, each keeping %s in flight in %s writes; %s s warm-up, %s s measured%n",
                connections, Stats.bytes(window), Stats.bytes(size), plain(warmup), plain(seconds));
        out.printf(Locale.ROOT, "  threads   %d %s event-loop thread%s per server and for the load generator; %d CPUs; Java %s%n",
                threads, epoll ? "epoll" : "NIO", threads == 1 ? "" : "s", Runtime.getRuntime().availableProcessors(),
                Runtime.version());
        out.println("  servers   netty = plain Netty echo, callback = ManCom callback API, blocking = ManCom blocking API"
                + " (a thread per connection), plain sockets = java.net sockets with a thread per connection (the blocking API's reference)");
        out.println();
        out.flush();
    }

    private static Table table() {
        return new Table("  ", "run", "netty MB/s>", "callback MB/s>", "blocking MB/s>", "callback/netty>", "blocking/netty>")
                .minWidth(0, "median".length());
    }

    /** Prints the lines of {@code table} not printed yet (the columns are wider than any figure, so rows line up). */
    private static void printNewLines(PrintWriter out, Table table, List<String> printed) {
        List<String> lines = table.lines();
        for (int i = printed.size(); i < lines.size(); i++) {
            out.println(lines.get(i));
            printed.add(lines.get(i));
        }
        out.flush();
    }

    private static String mb(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String ratio(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String plain(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
