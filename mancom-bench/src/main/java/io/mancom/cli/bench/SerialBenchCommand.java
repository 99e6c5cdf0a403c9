package io.mancom.cli.bench;

import io.mancom.ManCom;
import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import io.mancom.testkit.PtyPair;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code mancom bench serial}: one-way throughput over a socat pty pair through a ManCom serial
 * service, against plain {@link FileInputStream}/{@link FileOutputStream} on the same pair, in
 * the same run.
 *
 * <p>Every measurement moves the same {@code --size} bytes, in {@code --chunk} writes, over the
 * same pty pair (one socat for the whole benchmark). One end is always plain Java streams; the
 * other end is either plain streams too (the baseline) or a ManCom service (callback API) on a
 * {@code serial://} endpoint:
 *
 * <pre>
 *   plain b-&gt;a   FileOutputStream(b)  ──socat──&gt;  FileInputStream(a)
 *   rx           FileOutputStream(b)  ──socat──&gt;  ManCom service on serial://a (data receiver counts)
 *   plain a-&gt;b   FileOutputStream(a)  ──socat──&gt;  FileInputStream(b)
 *   tx           ManCom service on serial://a (writes while writable)  ──socat──&gt;  FileInputStream(b)
 * </pre>
 *
 * The ratios rx/plain and tx/plain compare the same direction over the same pair. A measurement
 * starts at the first write and ends when the reader has the last byte; the runtime's start and
 * the port's opening happen before it. A benchmark, not a test: nothing asserts the figures.
 */
@Command(name = "serial", mixinStandardHelpOptions = true,
        description = {"One-way throughput over a socat pty pair: a ManCom serial service against plain Java streams.",
                "",
                "Needs socat (apt-get install socat). Starts one pty pair (socat pty,raw,echo=0 x 2) and, in every run,"
                        + " moves --size bytes in --chunk writes four ways over it: plain FileOutputStream to"
                        + " FileInputStream in each direction, a ManCom service receiving (rx) and a ManCom service"
                        + " sending (tx), the other end plain streams. Reports MB/s per way and the ratios rx/plain and"
                        + " tx/plain of the same direction, per run and as medians. A pty ignores the baud rate: this"
                        + " measures ManCom's overhead, not a UART."})
public final class SerialBenchCommand implements Callable<Integer> {
    private static final Duration READY = Duration.ofSeconds(10);
    private static final String SERVICE = "line";

    @Spec
    private CommandSpec spec;

    @Option(names = "--size", defaultValue = "67108864", paramLabel = "BYTES",
            description = "Bytes per transfer (default ${DEFAULT-VALUE}, 64 MiB).")
    private int size;

    @Option(names = "--chunk", defaultValue = "65536", paramLabel = "BYTES",
            description = "Bytes per write (default ${DEFAULT-VALUE}).")
    private int chunk;

    @Mixin
    private BenchOptions.Runs runs = new BenchOptions.Runs(5);

    @Mixin
    private BenchOptions.Threads threads = new BenchOptions.Threads();

    @Option(names = "--baud", defaultValue = "0", paramLabel = "B",
            description = "Run over a paced line at B baud (testkit SerialLineRelay between two pty pairs) and compare"
                    + " goodput with ZMODEM (sz/rz from lrzsz); --size then defaults to 32 KiB. 0 (default): the pty benchmark above.")
    private long baud;

    @Option(names = "--ber", defaultValue = "0", paramLabel = "X",
            description = "With --baud: bit error rate of the line, each direction (default ${DEFAULT-VALUE}).")
    private double ber;

    @Option(names = "--reliable", description = "With --baud: ManCom over its reliable link layer (link = reliable).")
    private boolean reliable;

    /** What --reliable adds to both ManCom services' config (docs/reliable-link.md). */
    static final String RELIABLE_LINK_CONFIG = "link = reliable";

    @Option(names = "--timeout", defaultValue = "60", paramLabel = "S",
            description = "Seconds one transfer may take before the benchmark gives up (default ${DEFAULT-VALUE}).")
    private int timeoutSeconds;

    /** One run's MB/s. */
    private record Run(double plainBA, double rx, double plainAB, double tx) {
        double rxRatio() {
            return rx / plainBA;
        }

        double txRatio() {
            return tx / plainAB;
        }
    }

    @Override
    public Integer call() throws Exception {
        validate();
        if (baud > 0) {
            return line();
        }
        String socat = PtyPair.socatVersion().orElse(null);
        if (socat == null) {
            throw new IOException("bench serial needs socat, which is not installed or cannot be run: install it"
                    + " (apt-get install socat, dnf install socat, brew install socat) and run again");
        }
        int threads = this.threads.threads();
        int runs = this.runs.runs();
        PrintWriter out = spec.commandLine().getOut();
        byte[] data = new byte[size];
        new Random(42).nextBytes(data);
        Path dir = Files.createTempDirectory("mancom-bench-serial");
        try (PtyPair pty = PtyPair.start(dir)) {
            Ways ways = new Ways(pty, data, chunk, threads, Duration.ofSeconds(timeoutSeconds));
            ways.check();
            out.println("ManCom serial benchmark (socat pty pair, one direction at a time)");
            out.printf(Locale.ROOT, "  load      %s per transfer in %s writes; %s%n", Stats.bytes(size), Stats.bytes(chunk), socat);
            out.printf(Locale.ROOT, "  threads   %d event-loop thread%s in the runtime; %s%n", threads, threads == 1 ? "" : "s",
                    BenchKit.javaAndCpus());
            out.println("  columns   plain = FileOutputStream -> FileInputStream; rx = plain writer -> ManCom service;"
                    + " tx = ManCom service -> plain reader");
            out.println();
            out.flush();
            Table table = new Table("  ", "run", "plain b->a MB/s>", "rx MB/s>", "plain a->b MB/s>", "tx MB/s>",
                    "rx/plain>", "tx/plain>").minWidth(0, "median".length());
            List<String> printed = new ArrayList<>();
            List<Run> results = new ArrayList<>();
            for (int r = 1; r <= runs; r++) {
                double plainBA;
                double rx;
                double plainAB;
                double tx;
                // Alternate which of a pair goes first, so neither always runs on a warmer machine.
                if (r % 2 == 1) {
                    plainBA = ways.plain(pty.b(), pty.a());
                    rx = ways.rx();
                    plainAB = ways.plain(pty.a(), pty.b());
                    tx = ways.tx();
                } else {
                    rx = ways.rx();
                    plainBA = ways.plain(pty.b(), pty.a());
                    tx = ways.tx();
                    plainAB = ways.plain(pty.a(), pty.b());
                }
                Run run = new Run(plainBA, rx, plainAB, tx);
                results.add(run);
                table.row(Integer.toString(r), BenchKit.mb(plainBA), BenchKit.mb(rx), BenchKit.mb(plainAB), BenchKit.mb(tx),
                        BenchKit.ratio(run.rxRatio()), BenchKit.ratio(run.txRatio()));
                BenchKit.printNewLines(out, table, printed);
            }
            double rxRatio = Stats.median(results.stream().mapToDouble(Run::rxRatio).toArray());
            double txRatio = Stats.median(results.stream().mapToDouble(Run::txRatio).toArray());
            table.row("median", BenchKit.mb(Stats.median(results.stream().mapToDouble(Run::plainBA).toArray())),
                    BenchKit.mb(Stats.median(results.stream().mapToDouble(Run::rx).toArray())),
                    BenchKit.mb(Stats.median(results.stream().mapToDouble(Run::plainAB).toArray())),
                    BenchKit.mb(Stats.median(results.stream().mapToDouble(Run::tx).toArray())),
                    BenchKit.ratio(rxRatio), BenchKit.ratio(txRatio));
            BenchKit.printNewLines(out, table, printed);
            out.println();
            out.printf(Locale.ROOT, "summary: ManCom receiving %s of plain streams, sending %s (median of %d run%s; target 0.90)%n",
                    BenchKit.ratio(rxRatio), BenchKit.ratio(txRatio), runs, runs == 1 ? "" : "s");
            out.flush();
        } finally {
            deleteTree(dir);
        }
        return 0;
    }

    /** {@code --baud}: goodput over the testkit's paced, noisy line, ManCom against ZMODEM. */
    private int line() throws Exception {
        if (PtyPair.socatVersion().isEmpty()) {
            throw new IOException("bench serial --baud needs socat, which is not installed or cannot be run (apt-get install socat)");
        }
        if (!SerialLineBench.zmodemAvailable()) {
            throw new IOException("bench serial --baud needs sz and rz (apt-get install lrzsz) for its ZMODEM reference");
        }
        int bytes = spec.commandLine().getParseResult().hasMatchedOption("--size") ? size : 32 * 1024;
        byte[] data = new byte[bytes];
        new Random(42).nextBytes(data);
        return new SerialLineBench(spec.commandLine().getOut(), baud, ber, data, Math.min(chunk, 4096), runs.runs(),
                threads.threads(), Duration.ofSeconds(timeoutSeconds), reliable ? RELIABLE_LINK_CONFIG : "").run();
    }

    private void validate() {
        List<String> problems = new ArrayList<>();
        if (size < 1 || size > 1 << 30) {
            problems.add("--size must be from 1 to 1073741824: " + size);
        }
        if (chunk < 1 || chunk > 16 << 20) {
            problems.add("--chunk must be from 1 to 16777216: " + chunk);
        }
        runs.validate(problems);
        threads.validate(problems);
        if (baud < 0 || baud > 100_000_000) {
            problems.add("--baud must be from 0 to 100000000: " + baud);
        }
        if (!(ber >= 0 && ber <= 0.1)) {
            problems.add("--ber must be from 0 to 0.1: " + ber);
        }
        if (baud == 0 && (ber > 0 || reliable)) {
            problems.add("--ber and --reliable need --baud");
        }
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) {
            problems.add("--timeout must be from 1 to 3600: " + timeoutSeconds);
        }
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), String.join("; ", problems));
        }
    }

    static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder left behind is harmless
        }
    }

    /** The four ways of moving the bytes over one pty pair. */
    static final class Ways {
        private final PtyPair pty;
        private final byte[] data;
        private final int chunk;
        private final int threads;
        private final Duration timeout;

        Ways(PtyPair pty, byte[] data, int chunk, int threads, Duration timeout) {
            this.pty = pty;
            this.data = data;
            this.chunk = chunk;
            this.threads = threads;
            this.timeout = timeout;
        }

        /**
         * Both ManCom directions once with a digest of what arrived, before any figure is taken
         * (a path that does not move the bytes exactly would make its figure meaningless); this
         * also warms the JIT up.
         */
        void check() throws Exception {
            onLine(line -> {
                line.check();
                return null;
            });
        }

        /** plain writer on {@code from}, plain reader on {@code to}: MB/s. */
        double plain(Path from, Path to) throws Exception {
            // A ManCom run leaves the terminal in jSerialComm's read mode (VMIN 0, a read timeout),
            // in which a plain read returns end-of-file whenever the line is idle: make reads block.
            stty(from);
            Reader reader = new Reader(to, data.length, false);
            long t0 = System.nanoTime();
            try (FileOutputStream w = new FileOutputStream(from.toFile())) {
                for (int off = 0; off < data.length; off += chunk) {
                    w.write(data, off, Math.min(chunk, data.length - off));
                }
            }
            return Stats.mbPerSecond(data.length, reader.await(timeout) - t0);
        }

        /** plain writer on b, ManCom service on a: MB/s. */
        double rx() throws Exception {
            return onLine(PtyService::rx);
        }

        /** ManCom service on a, plain reader on b: MB/s. */
        double tx() throws Exception {
            return onLine(PtyService::tx);
        }

        private interface Transfer<T> {
            T run(PtyService line) throws Exception;
        }

        /**
         * Runs {@code transfer} on a runtime of its own whose service opens end a, closed after:
         * the plain measurements between need the pair's ends free.
         */
        private <T> T onLine(Transfer<T> transfer) throws Exception {
            PtyService line = new PtyService(SERVICE, pty, data, chunk, timeout);
            try (ManCom mancom = BenchKit.runtime(line.config(false), threads)) {
                line.register(mancom);
                mancom.awaitReady(READY);
                return transfer.run(line);
            }
        }
    }

    /** Reads {@code total} bytes from a pty end on a thread of its own, noting when the last arrived. */
    static final class Reader {
        private final CompletableFuture<Long> done = new CompletableFuture<>();
        private final MessageDigest md;
        private final Thread thread;
        private final Path path;
        private final long total;
        private volatile long got;

        Reader(Path path, long total, boolean digest) throws IOException, InterruptedException {
            this.path = path;
            this.total = total;
            this.md = digest ? sha256() : null;
            stty(path);
            FileInputStream in = new FileInputStream(path.toFile()); // opened before any byte is written
            thread = new Thread(() -> {
                byte[] buf = new byte[64 * 1024];
                try (in) {
                    while (got < total) {
                        int n = in.read(buf, 0, (int) Math.min(buf.length, total - got));
                        if (n > 0) {
                            if (md != null) {
                                md.update(buf, 0, n);
                            }
                            got += n;
                        }
                        // n < 0: the terminal returned an empty read (an idle line in timeout mode); read again.
                    }
                    done.complete(System.nanoTime());
                } catch (IOException | RuntimeException e) {
                    done.completeExceptionally(e);
                }
            }, "bench-serial-reader");
            thread.setDaemon(true);
            thread.start();
        }

        /** When the last byte arrived (System.nanoTime). */
        long await(Duration timeout) throws Exception {
            try {
                return done.get(timeout.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                thread.interrupt();
                throw new IOException("the reader of " + path + " got " + got + " of " + total + " bytes in "
                        + timeout.toSeconds() + " s");
            }
        }

        byte[] digest(long ignoredStart) {
            return md.digest();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Puts a pty end into raw mode with blocking reads ({@code stty raw -echo min 1 time 0}). */
    static void stty(Path end) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("stty", "-F", end.toString(), "raw", "-echo", "min", "1", "time", "0")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("stty -F " + end + " failed: " + output.strip());
        }
    }
}
