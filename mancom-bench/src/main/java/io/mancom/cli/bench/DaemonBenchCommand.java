package io.mancom.cli.bench;

import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.cli.internal.Logging;
import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import io.mancom.daemon.ManComDaemon;
import io.mancom.spi.RuntimeOptions;
import io.mancom.testkit.PtyPair;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToDoubleFunction;

/**
 * {@code mancom bench daemon}: what it costs to let the system daemon own a TCP service. The same
 * echo service (callbacks) is served twice by one runtime in this process: {@code direct}, bound
 * by the runtime itself ({@code scope = process}), and {@code daemon}, owned by a
 * {@link ManComDaemon} started in this process ({@code scope = system}): the daemon accepts each
 * connection and hands the socket over by SCM_RIGHTS. Two figures, each measured for both and
 * put as a ratio in the same run:
 * <ul>
 *   <li>throughput: {@code --connections} echo connections of {@code --size} writes (after the
 *       hand-off no byte passes through the daemon, so the target is 0.95);</li>
 *   <li>accept rate: {@code --clients} threads each opening a connection, echoing one byte and
 *       closing it, in a loop (each connection costs the daemon an accept, a descriptor sent and
 *       an acknowledgement read; target 0.8).</li>
 * </ul>
 * Then a pty's throughput (unless {@code --pty-size 0}; needs socat): a serial service owned by the
 * daemon and served by the runtime (the line's descriptor handed to the process: {@code mux = off},
 * {@code ManCom-Carry: device}) against the same kind of service bound by the process, each on a socat pty pair of
 * its own (a pty has one user at a time) and both driven by the same {@link PtyService} code,
 * bytes moved to and from plain streams on the pair's other end (as {@code bench serial} does),
 * rx and tx, daemon/direct per run (target 0.9).
 * A benchmark, not a test: nothing asserts the figures.
 */
@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Throughput and accept rate of a TCP echo service owned by the daemon against the same service"
                + " bound by the process.",
                "",
                "One process: a ManCom daemon and a runtime that serves an echo service twice, once bound itself"
                        + " (direct) and once through the daemon (scope = system: the daemon accepts and hands each"
                        + " socket over). Each run measures both, in alternating order: MB/s of echo over"
                        + " --connections connections, and connections per second opened, echoed (1 byte) and closed"
                        + " by --clients client threads. Reports daemon/direct per run and the medians.",
                "",
                "Then, unless --pty-size 0 (needs socat), a pty's throughput: a serial service owned by the daemon"
                        + " and served by this process against the same service bound by the process, each on a socat"
                        + " pty pair, --pty-size bytes each way to and from plain streams per run."})
public final class DaemonBenchCommand implements Callable<Integer> {
    private static final Duration READY = Duration.ofSeconds(20);

    @Spec
    private CommandSpec spec;

    @Mixin
    private final BenchOptions.Threads threads = new BenchOptions.Threads();
    @Mixin
    private final BenchOptions.Runs runs = new BenchOptions.Runs(5);
    @Mixin
    private final BenchOptions.Timing timing = new BenchOptions.Timing(1, 0.5);

    @Option(names = "--connections", defaultValue = "4", paramLabel = "C",
            description = "Echo connections of the throughput measurement (default ${DEFAULT-VALUE}).")
    private int connections;

    @Option(names = "--size", defaultValue = "16384", paramLabel = "BYTES",
            description = "Bytes per write of the throughput measurement (default ${DEFAULT-VALUE}).")
    private int size;

    @Option(names = "--clients", defaultValue = "4", paramLabel = "N",
            description = "Client threads of the accept-rate measurement (default ${DEFAULT-VALUE}).")
    private int clients;

    @Option(names = "--pty-size", defaultValue = "16777216", paramLabel = "BYTES",
            description = "Bytes per pty transfer (default ${DEFAULT-VALUE}, 16 MiB; 0: no pty figures).")
    private int ptySize;

    @Option(names = "--pty-chunk", defaultValue = "65536", paramLabel = "BYTES",
            description = "Bytes per write of a pty transfer (default ${DEFAULT-VALUE}).")
    private int ptyChunk;

    @Option(names = "--timeout", defaultValue = "60", paramLabel = "S",
            description = "Seconds one pty transfer may take before the benchmark gives up (default ${DEFAULT-VALUE}).")
    private int timeoutSeconds;

    private record Run(double directMb, double daemonMb, double directRate, double daemonRate) {
    }

    @Override
    public Integer call() throws Exception {
        List<String> problems = new ArrayList<>();
        threads.validate(problems);
        runs.validate(problems);
        timing.validate(problems);
        if (connections < 1 || connections > 1024) {
            problems.add("--connections must be from 1 to 1024: " + connections);
        }
        if (size < 1 || size > 16 << 20) {
            problems.add("--size must be from 1 to 16777216: " + size);
        }
        if (clients < 1 || clients > 256) {
            problems.add("--clients must be from 1 to 256: " + clients);
        }
        if (ptySize < 0 || ptySize > 1 << 30) {
            problems.add("--pty-size must be from 0 to 1073741824: " + ptySize);
        }
        if (ptyChunk < 1 || ptyChunk > 16 << 20) {
            problems.add("--pty-chunk must be from 1 to 16777216: " + ptyChunk);
        }
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) {
            problems.add("--timeout must be from 1 to 3600: " + timeoutSeconds);
        }
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), String.join("; ", problems));
        }
        String socat = ptySize == 0 ? null : PtyPair.socatVersion().orElse(null);
        if (ptySize > 0 && socat == null) {
            throw new IOException("bench daemon needs socat for its pty figures, which is not installed or cannot be"
                    + " run: install it (apt-get install socat) and run again, or pass --pty-size 0");
        }
        Logging.quietConnectionEvents(); // thousands of connections: the table says enough
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("mancom-bench-daemon");
        // Two pairs: the daemon keeps its end open all the time, and a pty has one user at a time.
        PtyPair directPty = null;
        PtyPair daemonPty = null;
        try {
            if (ptySize > 0) {
                directPty = PtyPair.start(dir.resolve("pty-direct"));
                daemonPty = PtyPair.start(dir.resolve("pty-daemon"));
            }
            run(out, dir, directPty, daemonPty, socat);
        } finally {
            if (directPty != null) {
                directPty.close();
            }
            if (daemonPty != null) {
                daemonPty.close();
            }
            deleteTree(dir);
        }
        return 0;
    }

    private void run(PrintWriter out, Path dir, PtyPair directPty, PtyPair daemonPty, String socat) throws Exception {
        Path conf = dir.resolve("mancom.conf");
        byte[] ptyData = new byte[ptySize];
        new Random(42).nextBytes(ptyData);
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        PtyService ptyDirect = directPty == null ? null : new PtyService("pty-direct", directPty, ptyData, ptyChunk, timeout);
        PtyService ptyDaemon = daemonPty == null ? null : new PtyService("pty-daemon", daemonPty, ptyData, ptyChunk, timeout);
        Files.writeString(conf, (ptyDirect == null ? "" : ptyDirect.config(false) + ptyDaemon.config(true))
                + "mancom.runtime-dir = \"" + dir.resolve("run") + "\"\n"
                + "mancom.control = off\n"
                + "mancom.services.demo = null\n"
                + "mancom.services.direct { endpoint = \"tcp://127.0.0.1:0\" }\n"
                + "mancom.services.daemon { endpoint = \"tcp://127.0.0.1:0\", scope = system }\n");
        RuntimeOptions options = RuntimeOptions.defaults().withConfigFile(conf)
                .withSystemConfigDir(dir.resolve("etc")).withUserConfigDir(dir.resolve("user"))
                .withEnvironment(Map.of()).withSystemProperties(new Properties());
        try (ManComDaemon daemon = ManComDaemon.start(options);
             ManCom mancom = ManCom.builder().configFile(conf).systemConfigDir(dir.resolve("etc"))
                     .userConfigDir(dir.resolve("user")).environment(Map.of()).systemProperties(new Properties())
                     .ioThreads(threads.threads()).start()) {
            for (String service : List.of("direct", "daemon")) {
                mancom.registerDataReceiver(service, (c, data) -> c.write(data));
            }
            if (ptyDirect != null) {
                ptyDirect.register(mancom);
                ptyDaemon.register(mancom);
            }
            mancom.awaitReady(READY);
            InetSocketAddress direct = address(mancom.boundEndPoint("direct").orElseThrow());
            InetSocketAddress ownedTcp = address(mancom.boundEndPoint("daemon").orElseThrow());
            boolean epoll = ManComServers.isNative(mancom);
            out.printf(Locale.ROOT, "daemon: %s serves 'daemon' on %s; 'direct' is bound by the process on %s%n",
                    daemon.socket(), ownedTcp.getHostString() + ":" + ownedTcp.getPort(),
                    direct.getHostString() + ":" + direct.getPort());
            out.printf(Locale.ROOT, "%s; %d io threads; %d run%s of %s s (+%s s warm-up) per case%n%n",
                    BenchKit.javaAndCpus(), threads.threads(), runs.runs(), runs.runs() == 1 ? "" : "s",
                    BenchKit.plain(timing.seconds()), BenchKit.plain(timing.warmup()));
            Table table = new Table("  ", "run", "direct MB/s>", "daemon MB/s>", "ratio>", "direct conn/s>",
                    "daemon conn/s>", "ratio>");
            List<String> printed = new ArrayList<>();
            List<Run> results = new ArrayList<>();
            try (LoadGenerator load = new LoadGenerator(threads.threads(), epoll, connections, size, 256 * 1024)) {
                acceptRate(ownedTcp, 0.2); // warm the hand-off path before anything counts
                for (int r = 1; r <= runs.runs(); r++) {
                    boolean directFirst = r % 2 == 1;
                    double[] mb = new double[2];
                    double[] rate = new double[2];
                    for (int k = 0; k < 2; k++) {
                        boolean isDirect = (k == 0) == directFirst;
                        InetSocketAddress a = isDirect ? direct : ownedTcp;
                        mb[isDirect ? 0 : 1] = load.measure(isDirect ? "direct" : "daemon", a, timing.warmupNanos(),
                                timing.measureNanos()).mbPerSecond();
                    }
                    for (int k = 0; k < 2; k++) {
                        boolean isDirect = (k == 0) == directFirst;
                        rate[isDirect ? 0 : 1] = acceptRate(isDirect ? direct : ownedTcp, timing.seconds());
                    }
                    Run run = new Run(mb[0], mb[1], rate[0], rate[1]);
                    results.add(run);
                    table.row(Integer.toString(r), BenchKit.mb(run.directMb()), BenchKit.mb(run.daemonMb()),
                            BenchKit.ratio(run.daemonMb() / run.directMb()), BenchKit.plain(Math.round(run.directRate())),
                            BenchKit.plain(Math.round(run.daemonRate())), BenchKit.ratio(run.daemonRate() / run.directRate()));
                    BenchKit.printNewLines(out, table, printed);
                }
            }
            double mbRatio = Stats.median(results.stream().mapToDouble(x -> x.daemonMb() / x.directMb()).toArray());
            double rateRatio = Stats.median(results.stream().mapToDouble(x -> x.daemonRate() / x.directRate()).toArray());
            out.println();
            out.printf(Locale.ROOT, "summary: through the daemon, throughput %s of direct (target 0.95), accept rate %s"
                            + " (target 0.8); median of %d run%s, %d connections x %s writes, %d accepting clients%n",
                    BenchKit.ratio(mbRatio), BenchKit.ratio(rateRatio), runs.runs(), runs.runs() == 1 ? "" : "s",
                    connections, Stats.bytes(size), clients);
            out.flush();
            if (ptyDirect != null) {
                ptyRuns(out, ptyDirect, ptyDaemon, socat);
            }
        }
    }

    /** One transfer: MB/s, and the whole machine's busy CPU seconds and CPUs while it ran. */
    private record Transfer(double mbPerSecond, double cpuSeconds, double busyCpus) {
        static Transfer of(Callable<Double> transfer) throws Exception {
            MachineCpu before = MachineCpu.now();
            double mb = transfer.call();
            MachineCpu after = MachineCpu.now();
            return new Transfer(mb, after.busySecondsSince(before),
                    after.busyCpusSince(before, Runtime.getRuntime().availableProcessors()));
        }
    }

    /** One run's pty transfers. */
    private record PtyRun(Transfer directRx, Transfer daemonRx, Transfer directTx, Transfer daemonTx) {
        double rxRatio() {
            return daemonRx.mbPerSecond() / directRx.mbPerSecond();
        }

        double txRatio() {
            return daemonTx.mbPerSecond() / directTx.mbPerSecond();
        }
    }

    /** The pty figures: each run moves the bytes each way through both services, in alternating order. */
    private void ptyRuns(PrintWriter out, PtyService direct, PtyService owned, String socat)
            throws Exception {
        direct.check();
        owned.check();
        out.println();
        out.printf(Locale.ROOT, "pty: %s per transfer in %s writes, one direction at a time; %s%n",
                Stats.bytes(ptySize), Stats.bytes(ptyChunk), socat);
        out.println("  direct = a serial service bound by the process (scope = process); daemon = the same service owned"
                + " by the daemon (scope = system), the line's descriptor handed to the process; the other end plain"
                + " streams");
        out.println();
        Table table = new Table("  ", "run", "direct rx MB/s>", "daemon rx MB/s>", "direct tx MB/s>",
                "daemon tx MB/s>", "rx daemon/direct>", "tx daemon/direct>").minWidth(0, "median".length());
        List<String> printed = new ArrayList<>();
        List<PtyRun> results = new ArrayList<>();
        for (int r = 1; r <= runs.runs(); r++) {
            PtyRun run;
            // Alternate which of a pair goes first, so neither always runs on a warmer machine.
            if (r % 2 == 1) {
                Transfer drx = Transfer.of(direct::rx);
                Transfer orx = Transfer.of(owned::rx);
                Transfer dtx = Transfer.of(direct::tx);
                run = new PtyRun(drx, orx, dtx, Transfer.of(owned::tx));
            } else {
                Transfer orx = Transfer.of(owned::rx);
                Transfer drx = Transfer.of(direct::rx);
                Transfer otx = Transfer.of(owned::tx);
                run = new PtyRun(drx, orx, Transfer.of(direct::tx), otx);
            }
            results.add(run);
            table.row(Integer.toString(r), BenchKit.mb(run.directRx().mbPerSecond()),
                    BenchKit.mb(run.daemonRx().mbPerSecond()), BenchKit.mb(run.directTx().mbPerSecond()),
                    BenchKit.mb(run.daemonTx().mbPerSecond()),
                    BenchKit.ratio(run.rxRatio()), BenchKit.ratio(run.txRatio()));
            BenchKit.printNewLines(out, table, printed);
        }
        double rxRatio = median(results, PtyRun::rxRatio);
        double txRatio = median(results, PtyRun::txRatio);
        table.row("median", BenchKit.mb(median(results, x -> x.directRx().mbPerSecond())),
                BenchKit.mb(median(results, x -> x.daemonRx().mbPerSecond())),
                BenchKit.mb(median(results, x -> x.directTx().mbPerSecond())),
                BenchKit.mb(median(results, x -> x.daemonTx().mbPerSecond())),
                BenchKit.ratio(rxRatio), BenchKit.ratio(txRatio));
        BenchKit.printNewLines(out, table, printed);
        out.println();
        out.printf(Locale.ROOT, "summary: a pty through the daemon, receiving %s of direct, sending %s (median of %d"
                + " run%s; target 0.90)%n", BenchKit.ratio(rxRatio), BenchKit.ratio(txRatio), runs.runs(),
                runs.runs() == 1 ? "" : "s");
        if (MachineCpu.now().available()) {
            printCpu(out, results);
        }
        out.flush();
    }

    /**
     * Whole-machine CPU per MiB moved, per direction and path (medians), and what it implies: on a
     * machine that is busy on all its CPUs in both paths, throughput is CPU-bound and its ratio
     * cannot exceed the inverse ratio of the CPU each path spends per byte.
     */
    private void printCpu(PrintWriter out, List<PtyRun> results) {
        double mib = ptySize / (double) (1 << 20);
        int cpus = Runtime.getRuntime().availableProcessors();
        for (boolean rx : new boolean[]{true, false}) {
            double direct = median(results, x -> (rx ? x.directRx() : x.directTx()).cpuSeconds()) / mib * 1e3;
            double daemon = median(results, x -> (rx ? x.daemonRx() : x.daemonTx()).cpuSeconds()) / mib * 1e3;
            double directBusy = median(results, x -> (rx ? x.directRx() : x.directTx()).busyCpus());
            double daemonBusy = median(results, x -> (rx ? x.daemonRx() : x.daemonTx()).busyCpus());
            if (direct <= 0 || daemon <= 0) {
                out.printf(Locale.ROOT, "cpu %s: not measured (a transfer shorter than the 10 ms ticks of /proc/stat)%n",
                        rx ? "rx" : "tx");
                continue;
            }
            out.printf(Locale.ROOT, "cpu %s: %.2f ms per MiB direct, %.2f through the daemon (%.2fx); busy CPUs %.2f"
                            + " and %.2f of %d: CPU-bound ceiling of daemon/direct %s%n", rx ? "rx" : "tx", direct,
                    daemon, daemon / direct, directBusy, daemonBusy, cpus, BenchKit.ratio(direct / daemon));
        }
        out.println("  (whole machine from /proc/stat, nice time left out: meaningful on an otherwise quiet machine;"
                + " the ceiling binds when both paths keep every CPU busy)");
    }

    private static double median(List<PtyRun> runs, ToDoubleFunction<PtyRun> f) {
        return Stats.median(runs.stream().mapToDouble(f).toArray());
    }

    private static InetSocketAddress address(EndPoint e) {
        TcpAddress tcp = (TcpAddress) e.address();
        return new InetSocketAddress("0.0.0.0".equals(tcp.host()) ? "127.0.0.1" : tcp.host(), tcp.port());
    }

    /**
     * Connections per second that {@link #clients} threads open, echo one byte over and close,
     * for {@code seconds}.
     */
    private double acceptRate(InetSocketAddress server, double seconds) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Long>> counts = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < clients; i++) {
                counts.add(pool.submit(() -> {
                    long n = 0;
                    while (!stop.get()) {
                        exchange(server);
                        n++;
                    }
                    return n;
                }));
            }
            BenchKit.sleepNanos((long) (seconds * 1e9));
            stop.set(true);
            long total = 0;
            for (Future<Long> f : counts) {
                total += f.get();
            }
            return total / ((System.nanoTime() - t0) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void exchange(InetSocketAddress server) throws IOException {
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(10_000);
            s.connect(server, 10_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write(42);
            if (in.read() != 42) {
                throw new IOException("the echo of one byte over a new connection to " + server + " did not come back");
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory: best effort
        }
    }
}
