package io.mancom.cli.bench;

import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import io.mancom.core.internal.ManComRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code mancom bench sniff}: the cost of a port shared by match with {@code handler = forward},
 * against a direct connection, a ManCom forward on a port of its own, and sslh on the same routing.
 *
 * <h2>Method</h2>
 * One plain Netty echo server is the backend. In front of it, in the same run: a ManCom runtime
 * with a shared port (rule {@code http1} to a tiny HTTP service, rule {@code any} forwarding to the
 * backend), a plain port (no match, forwarding to the backend) and a tunnel ({@code handler = tunnel}:
 * each connection a stream on one mux TCP link to a mux service of the same runtime that forwards it
 * to the backend), and sslh ({@code sslh-select}
 * and the forking {@code sslh} of the Debian package, when installed) as child processes with
 * {@code --http} and {@code --anyprot} pointing the same way. Each run measures, in turn:
 * <ul>
 *   <li>throughput: the load generator of {@code bench tcp} (fixed window in flight per
 *       connection) echoing through each path, MB/s;</li>
 *   <li>setup rate: client threads that each connect, send 16 bytes, read the 16 echoed back and
 *       close (reset, so no TIME_WAIT piles up), connections per second.</li>
 * </ul>
 * Then the tunnel one way: {@link OneWayLoad}'s connections write to a sink directly, through a
 * plain forward and through a tunnel to it, alternating (bytes that reached the sink, MB/s).
 * Then the same one-way load over a link of {@code --link-rate} ({@link ShapedLink}): directly,
 * to a shared port forwarding to the sink, and through a tunnel whose mux link crosses such a link.
 * On loopback a forward or a tunnel only adds socket work on the CPUs the load shares; a user's
 * clients reach them over a link, whose rate is then the bound.
 * The report gives medians and the median of the per-run ratios: forwarded/direct throughput and
 * shared/plain setup rate, and ManCom against sslh. A benchmark, not a test: nothing is asserted.
 */
@Command(name = "sniff", mixinStandardHelpOptions = true,
        description = {"A port shared by match with handler = forward, against direct, a plain ManCom forward and sslh.",
                "",
                "Throughput (MB/s, echoed each way) and connection setup rate (connect, 16 bytes there and back,"
                        + " close) through: the backend directly, a ManCom forward on a plain port, a ManCom forward"
                        + " on a port shared by match (http1 + any), a ManCom tunnel (handler = tunnel: each connection"
                        + " a stream of one mux TCP link, forwarded at its far end), and sslh-select / sslh with --http and --anyprot"
                        + " on the same routing (when installed). Same run, alternating."})
public final class SniffBenchCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private final BenchOptions.Timing timing = new BenchOptions.Timing(2, 1);

    @Mixin
    private final BenchOptions.Runs runs = new BenchOptions.Runs(3);

    @Mixin
    private final BenchOptions.Threads threads = new BenchOptions.Threads();

    @Option(names = "--connections", defaultValue = "4", paramLabel = "C",
            description = "Connections of the throughput load (default ${DEFAULT-VALUE}).")
    private int connections;

    @Option(names = "--setup-threads", defaultValue = "4", paramLabel = "N",
            description = "Client threads opening connections for the setup rate (default ${DEFAULT-VALUE}).")
    private int setupThreads;

    @Option(names = "--sslh", defaultValue = "/usr/sbin/sslh", paramLabel = "PATH",
            description = "The sslh binary; sslh-select is looked for beside it (default ${DEFAULT-VALUE}).")
    private Path sslh;

    @Option(names = "--link-rate", defaultValue = "100", paramLabel = "MB/s",
            description = "The one-way load once more over a link of this rate (a relay in this process that"
                    + " all its connections share): direct, to the shared port, and through the tunnel (its mux link"
                    + " over the link); 0 leaves it out"
                    + " (default ${DEFAULT-VALUE}).")
    private double linkRate;

    private static final int SIZE = 16384;
    private static final int WINDOW = 262144;

    @Override
    public Integer call() throws Exception {
        List<String> problems = new ArrayList<>();
        timing.validate(problems);
        runs.validate(problems);
        threads.validate(problems);
        if (connections < 1 || setupThreads < 1) {
            problems.add("--connections and --setup-threads must be at least 1");
        }
        if (!(linkRate >= 0)) {
            problems.add("--link-rate must be 0 (none) or a rate in MB/s");
        }
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), String.join("; ", problems));
        }
        int threads = this.threads.threads();
        double seconds = timing.seconds();
        PrintWriter out = spec.commandLine().getOut();
        List<Process> children = new ArrayList<>();
        int muxPort = freePort();
        int sharedSinkPort = freePort();
        double linkBytes = linkRate > 0 ? linkRate * 1e6 : 1;
        try (NettyEchoServer backend = new NettyEchoServer(threads, io.netty.channel.epoll.Epoll.isAvailable());
             OneWayLoad oneWay = new OneWayLoad(threads, io.netty.channel.epoll.Epoll.isAvailable(), SIZE);
             ShapedLink toSink = new ShapedLink(oneWay.sinkAddress(), linkBytes);
             ShapedLink toFar = new ShapedLink(new InetSocketAddress("127.0.0.1", muxPort), linkBytes);
             ShapedLink toShared = new ShapedLink(new InetSocketAddress("127.0.0.1", sharedSinkPort), linkBytes);
             ManCom mancom = BenchKit.runtime(config(backend.address().getPort(), muxPort,
                     oneWay.sinkAddress().getPort(), toFar.address().getPort(), sharedSinkPort), threads)) {
            ManComRuntime runtime = (ManComRuntime) mancom;
            runtime.registerDataReceiver("web", http());
            runtime.handleLinks("shared", runtime.forwarder("shared"));
            runtime.handleLinks("plain", runtime.forwarder("plain"));
            runtime.handleLinks("far", runtime.forwarder("far"));
            runtime.handleLinks("tunnel", runtime.tunneller("tunnel"));
            runtime.handleLinks("plainsink", runtime.forwarder("plainsink"));
            runtime.handleLinks("farsink", runtime.forwarder("farsink"));
            runtime.handleLinks("tunnelsink", runtime.tunneller("tunnelsink"));
            runtime.handleLinks("shapedtunnel", runtime.tunneller("shapedtunnel"));
            runtime.registerDataReceiver("websink", http());
            runtime.handleLinks("sharedsink", runtime.forwarder("sharedsink"));
            mancom.awaitReady(Duration.ofSeconds(10));
            Map<String, InetSocketAddress> paths = new LinkedHashMap<>();
            paths.put("direct", backend.address());
            paths.put("mancom-plain", address(mancom, "plain"));
            paths.put("mancom-shared", address(mancom, "shared"));
            paths.put("mancom-tunnel", address(mancom, "tunnel"));
            int web = address(mancom, "web").getPort();
            for (String variant : List.of("sslh-select", "sslh")) {
                Path bin = sslh.resolveSibling(variant);
                if (Files.isExecutable(bin)) {
                    int port = freePort();
                    Process p = new ProcessBuilder(bin.toString(), "-f", "-p", "127.0.0.1:" + port,
                            "--http", "127.0.0.1:" + web, "--anyprot", "127.0.0.1:" + backend.address().getPort())
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    children.add(p);
                    awaitListening(port, p);
                    paths.put(variant, new InetSocketAddress("127.0.0.1", port));
                } else {
                    out.println("(" + bin + " is not installed: no " + variant + " column; Debian package sslh)");
                }
            }
            for (Map.Entry<String, InetSocketAddress> e : paths.entrySet()) {
                out.println("  " + e.getKey() + ": " + e.getValue());
                setupRate(e.getValue(), 1, 0.2); // checks the path echoes, and warms it
            }
            out.printf(Locale.ROOT, "bench sniff: %d run(s), %s s each, %d connections x %s in flight, %d setup threads,"
                            + " %d io threads; %s%n", runs.runs(), BenchKit.plain(seconds), connections, Stats.bytes(WINDOW),
                    setupThreads, threads, BenchKit.javaAndCpus());
            measure(out, paths, threads, runs.runs(), seconds);
            measureOneWay(out, oneWay, List.of(oneWay.sinkAddress(), address(mancom, "plainsink"),
                    address(mancom, "tunnelsink")));
            if (linkRate > 0) {
                measureShaped(out, oneWay, List.of(toSink.address(), toShared.address(), address(mancom, "shapedtunnel")));
            }
        } finally {
            for (Process p : children) {
                p.destroy();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        }
        return 0;
    }

    private void measure(PrintWriter out, Map<String, InetSocketAddress> paths, int threads, int runs, double seconds)
            throws Exception {
        List<String> names = new ArrayList<>(paths.keySet());
        List<double[]> mbs = new ArrayList<>();
        List<double[]> rates = new ArrayList<>();
        Table table = new Table("  ", header(names));
        List<String> printed = new ArrayList<>();
        try (LoadGenerator load = new LoadGenerator(threads, io.netty.channel.epoll.Epoll.isAvailable(), connections,
                SIZE, WINDOW)) {
            for (int r = 1; r <= runs; r++) {
                double[] mb = new double[names.size()];
                double[] rate = new double[names.size()];
                for (int k = 0; k < names.size(); k++) {
                    // Alternate the order between runs so that no path always goes first.
                    int i = r % 2 == 1 ? k : names.size() - 1 - k;
                    InetSocketAddress a = paths.get(names.get(i));
                    mb[i] = load.measure(names.get(i), a, timing.warmupNanos(), timing.measureNanos()).mbPerSecond();
                    rate[i] = setupRate(a, setupThreads, seconds);
                }
                mbs.add(mb);
                rates.add(rate);
                table.row(row("run " + r, mb, rate));
                BenchKit.printNewLines(out, table, printed);
            }
        }
        double[] mbMedian = new double[names.size()];
        double[] rateMedian = new double[names.size()];
        for (int i = 0; i < names.size(); i++) {
            int k = i;
            mbMedian[i] = Stats.median(mbs.stream().mapToDouble(m -> m[k]).toArray());
            rateMedian[i] = Stats.median(rates.stream().mapToDouble(m -> m[k]).toArray());
        }
        table.row(row("median", mbMedian, rateMedian));
        BenchKit.printNewLines(out, table, printed);
        out.println();
        int direct = names.indexOf("direct");
        int plain = names.indexOf("mancom-plain");
        int shared = names.indexOf("mancom-shared");
        out.printf(Locale.ROOT, "forwarded throughput: shared port %s of direct, plain-port forward %s of direct"
                        + " (median of per-run ratios; target >= 0.95)%n",
                ratio(mbs, shared, direct), ratio(mbs, plain, direct));
        int tunnel = names.indexOf("mancom-tunnel");
        out.printf(Locale.ROOT, "tunnel throughput: %s of direct, %s of the plain-port forward (every connection a stream"
                + " of one mux TCP link, then forwarded; target >= 0.9 of direct)%n", ratio(mbs, tunnel, direct),
                ratio(mbs, tunnel, plain));
        out.printf(Locale.ROOT, "setup rate: shared port %s of the plain-port forward, %s of direct"
                + " (target >= 0.90 of plain)%n", ratio(rates, shared, plain), ratio(rates, shared, direct));
        for (String n : names) {
            LongAdder f = failed.get(paths.get(n));
            if (f != null && f.sum() > 0) {
                out.println("setup: " + n + " closed or reset " + f.sum() + " connection(s) before their echo (not counted)");
            }
        }
        for (String s : List.of("sslh-select", "sslh")) {
            int i = names.indexOf(s);
            if (i >= 0) {
                out.printf(Locale.ROOT, "against %s on the same routing: throughput %s, setup rate %s (ManCom / %s)%n",
                        s, ratio(mbs, shared, i), ratio(rates, shared, i), s);
            }
        }
        out.flush();
    }

    /**
     * The tunnel one way: the same connections write to a sink directly, through a plain forward
     * and through the tunnel, alternating; medians and median per-run ratios.
     */
    private void measureOneWay(PrintWriter out, OneWayLoad load, List<InetSocketAddress> paths) throws Exception {
        String[] names = {"direct", "mancom-plain", "mancom-tunnel"};
        List<double[]> mbs = new ArrayList<>();
        for (int r = 1; r <= runs.runs(); r++) {
            double[] mb = new double[names.length];
            for (int k = 0; k < names.length; k++) {
                int i = r % 2 == 1 ? k : names.length - 1 - k;
                mb[i] = load.mbPerSecond(names[i], paths.get(i), connections, timing.warmupNanos(), timing.measureNanos());
            }
            mbs.add(mb);
            out.printf(Locale.ROOT, "one way, run %d: direct %.1f MB/s, plain forward %.1f, tunnel %.1f%n", r, mb[0], mb[1],
                    mb[2]);
        }
        out.printf(Locale.ROOT, "tunnel one way: %s of direct, %s of the plain-port forward (medians %.1f, %.1f, %.1f MB/s;"
                        + " %d connections writing to a sink)%n", ratio(mbs, 2, 0), ratio(mbs, 2, 1),
                Stats.median(mbs.stream().mapToDouble(m -> m[0]).toArray()),
                Stats.median(mbs.stream().mapToDouble(m -> m[1]).toArray()),
                Stats.median(mbs.stream().mapToDouble(m -> m[2]).toArray()), connections);
    }

    /**
     * One way where a link, not the CPU, is the bound: the same connections write to the sink over
     * a shaped link directly, over a link of the same rate to the shared port (match any, forwarded
     * to the sink), and through the tunnel whose mux link crosses a link of the same rate;
     * alternating, medians of the per-run ratios.
     */
    private void measureShaped(PrintWriter out, OneWayLoad load, List<InetSocketAddress> paths) throws Exception {
        String[] names = {"direct", "shared-port forward", "tunnel"};
        List<double[]> mbs = new ArrayList<>();
        String link = BenchKit.plain(linkRate) + " MB/s link";
        for (int r = 1; r <= runs.runs(); r++) {
            double[] mb = new double[names.length];
            for (int k = 0; k < names.length; k++) {
                int i = r % 2 == 1 ? k : names.length - 1 - k;
                mb[i] = load.mbPerSecond(names[i] + " over the link", paths.get(i), connections, timing.warmupNanos(),
                        timing.measureNanos());
            }
            mbs.add(mb);
            out.printf(Locale.ROOT, "over a %s, run %d: direct %.1f MB/s, shared-port forward %.1f, tunnel %.1f%n",
                    link, r, mb[0], mb[1], mb[2]);
        }
        out.printf(Locale.ROOT, "over a %s: shared-port forward %s of direct over the same link (target >= 0.95),"
                        + " tunnel %s (target >= 0.9); medians %.1f, %.1f, %.1f MB/s, %d connections writing to a sink%n",
                link, ratio(mbs, 1, 0), ratio(mbs, 2, 0),
                Stats.median(mbs.stream().mapToDouble(m -> m[0]).toArray()),
                Stats.median(mbs.stream().mapToDouble(m -> m[1]).toArray()),
                Stats.median(mbs.stream().mapToDouble(m -> m[2]).toArray()), connections);
    }

    private static String ratio(List<double[]> runs, int a, int b) {
        return BenchKit.ratio(Stats.median(runs.stream().mapToDouble(r -> r[a] / r[b]).toArray()));
    }

    private static String[] header(List<String> names) {
        List<String> h = new ArrayList<>();
        h.add("");
        names.forEach(n -> h.add(n + " MB/s"));
        names.forEach(n -> h.add(n + " conn/s"));
        return h.toArray(String[]::new);
    }

    private static String[] row(String label, double[] mb, double[] rate) {
        List<String> r = new ArrayList<>();
        r.add(label);
        for (double v : mb) {
            r.add(BenchKit.mb(v));
        }
        for (double v : rate) {
            r.add(String.format(Locale.ROOT, "%.0f", v));
        }
        return r.toArray(String[]::new);
    }

    /**
     * The routes. The tunnel's two ends are in this one runtime: {@code tunnel} opens its streams on
     * the link {@code uplink} dials to {@code far} (same endpoint, mux on: one link group, which
     * dials the port it serves), and {@code far} forwards each stream to the backend.
     */
    private static String config(int backend, int muxPort, int sink, int shapedLink, int sharedSink) {
        String to = "\"tcp://127.0.0.1:" + backend + "\"";
        String toSink = "\"tcp://127.0.0.1:" + sink + "\"";
        String mux = "\"tcp://127.0.0.1:" + muxPort + "\"";
        return "mancom.services {\n"
                + "  web { endpoint = \"tcp://127.0.0.1:0\", match = http1 }\n"
                + "  shared { endpoint = \"tcp://127.0.0.1:0\", match = any, handler = forward, forward = " + to + " }\n"
                + "  plain { endpoint = \"tcp://127.0.0.1:0\", handler = forward, forward = " + to + " }\n"
                + "  far { endpoint = " + mux + ", mux = on, handler = forward, forward = " + to + " }\n"
                + "  uplink { endpoint = " + mux + ", mux = on }\n"
                + "  tunnel { endpoint = \"tcp://127.0.0.1:0\", handler = tunnel, via = uplink, tunnel.service = far }\n"
                // The one-way load's paths: the same, to the sink.
                + "  plainsink { endpoint = \"tcp://127.0.0.1:0\", handler = forward, forward = " + toSink + " }\n"
                + "  farsink { endpoint = " + mux + ", mux = on, handler = forward, forward = " + toSink + " }\n"
                + "  tunnelsink { endpoint = \"tcp://127.0.0.1:0\", handler = tunnel, via = uplink, tunnel.service = farsink }\n"
                // The same tunnel to the sink with its mux link through the shaped link to farsink.
                + "  shapeduplink { endpoint = \"tcp://127.0.0.1:" + shapedLink + "\", mux = on, listen = off }\n"
                + "  shapedtunnel { endpoint = \"tcp://127.0.0.1:0\", handler = tunnel, via = shapeduplink,"
                + " tunnel.service = farsink }\n"
                // A shared port (http1 + any) forwarding to the sink, reached over a shaped link.
                + "  websink { endpoint = \"tcp://127.0.0.1:" + sharedSink + "\", match = http1 }\n"
                + "  sharedsink { endpoint = \"tcp://127.0.0.1:" + sharedSink + "\", match = any, handler = forward,"
                + " forward = " + toSink + " }\n"
                + "}\n";
    }

    /** The shared port's HTTP/1 service (the routing's other branch; the benchmark's bytes never go there). */
    private static DataReceiver http() {
        return (c, data) -> {
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            c.close();
        };
    }

    private static InetSocketAddress address(ManCom m, String service) {
        TcpAddress a = (TcpAddress) BenchKit.bound(m, service).address();
        return new InetSocketAddress(a.host(), a.port());
    }

    /**
     * Connections per second that {@code threads} clients complete against {@code a} in
     * {@code seconds}: connect, write 16 bytes, read them back, close with a reset.
     */
    private static double setupRate(InetSocketAddress a, int threads, double seconds) throws Exception {
        byte[] hello = "bench-sniff-0123".getBytes(StandardCharsets.US_ASCII);
        LongAdder done = new LongAdder();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> clients = new ArrayList<>();
        List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                byte[] back = new byte[hello.length];
                while (!stop.get()) {
                    try (Socket s = new Socket()) {
                        s.setSoLinger(true, 0);
                        s.setTcpNoDelay(true);
                        s.setSoTimeout(10_000);
                        s.connect(a, 10_000);
                        s.getOutputStream().write(hello);
                        InputStream in = s.getInputStream();
                        int n = 0;
                        while (n < back.length) {
                            int r = in.read(back, n, back.length - n);
                            if (r < 0) {
                                throw new IOException("closed after " + n + " bytes by " + a);
                            }
                            n += r;
                        }
                        done.increment();
                    } catch (IOException e) {
                        // Counted and reported: a path that drops connections under load says so.
                        failures.add(e);
                        if (failures.size() > 1000) {
                            return;
                        }
                    }
                }
            }, "bench-setup-" + t);
            th.setDaemon(true);
            clients.add(th);
        }
        long start = System.nanoTime();
        clients.forEach(Thread::start);
        TimeUnit.NANOSECONDS.sleep((long) (seconds * 1e9));
        stop.set(true);
        for (Thread th : clients) {
            th.join(15_000);
        }
        long nanos = System.nanoTime() - start;
        if (failures.size() > done.sum()) {
            throw new IOException("setup-rate client against " + a + " failed (" + failures.size() + " of "
                    + (done.sum() + failures.size()) + "): " + failures.get(0), failures.get(0));
        }
        failed.computeIfAbsent(a, x -> new LongAdder()).add(failures.size());
        return done.sum() / (nanos / 1e9);
    }

    /** Setup-rate connections that failed (reset or closed before the echo), by path. */
    private static final Map<InetSocketAddress, LongAdder> failed = new java.util.concurrent.ConcurrentHashMap<>();

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitListening(int port, Process p) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("sslh exited with " + p.exitValue() + " before listening on " + port);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                p.waitFor(50, TimeUnit.MILLISECONDS);
            }
        }
        throw new IOException("sslh does not listen on " + port + " after 10s");
    }
}
