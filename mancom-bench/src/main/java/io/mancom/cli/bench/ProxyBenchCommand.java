package io.mancom.cli.bench;

import io.mancom.proxy.ProxyConfig;
import io.mancom.proxy.ProxyServer;
import io.mancom.testkit.Nginx;
import io.mancom.testkit.Tools;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code mancom bench proxy}: wrk against three paths to the same nginx back end, in one run:
 * nginx directly (HTTP/1.1 keep-alive), ManCom's HTTP proxy in this process with one HTTP/2
 * cleartext connection to nginx, and nginx as a plain reverse proxy ({@code proxy_pass}, one
 * upstream connection per request: nginx's default). Requests per second and p99 latency for each
 * number of client connections, and ManCom's ratios to the other two. nginx and wrk must be
 * installed (Debian packages).
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = {"wrk -> ManCom's HTTP proxy (one h2c connection) -> nginx, against wrk -> nginx and wrk -> nginx proxy_pass.",
                "",
                "Starts an nginx (a child process, loopback ports, files in a temp dir) with a back end that answers"
                        + " every request with a short body, on an HTTP/1.1 port and an HTTP/2 cleartext port, and a"
                        + " plain reverse proxy to the HTTP/1.1 port; runs ManCom's proxy in this process towards the"
                        + " h2c port; then wrk --latency against each, for each --connections count, --runs times in"
                        + " alternating order."})
public final class ProxyBenchCommand implements Callable<Integer> {
    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern P99 = Pattern.compile("\\s99%\\s+([0-9.]+)(us|ms|s)");
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
    private static final Pattern SOCKET_ERRORS = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

    @Spec
    private CommandSpec spec;

    @Option(names = "--connections", defaultValue = "10,100,1000", split = ",", paramLabel = "N,...",
            description = "Client connections per case (default ${DEFAULT-VALUE}).")
    private List<Integer> connections;

    @Option(names = "--seconds", defaultValue = "10", paramLabel = "S", description = "Length of each wrk run (default ${DEFAULT-VALUE}).")
    private int seconds;

    @Option(names = "--runs", defaultValue = "1", paramLabel = "R", description = "Rounds over the three targets (default ${DEFAULT-VALUE}).")
    private int runs;

    // 5 s was too short on a loaded machine: the first 10-connection round still ran part
    // interpreted (65-117 us of proxy CPU per request against 15-30 us once compiled).
    @Option(names = "--warmup", defaultValue = "20", paramLabel = "S",
            description = "Seconds of wrk against ManCom before the runs, for the JIT (default ${DEFAULT-VALUE}).")
    private int warmup;

    @Option(names = "--wrk-threads", defaultValue = "2", paramLabel = "T", description = "wrk's threads (default ${DEFAULT-VALUE}).")
    private int wrkThreads;

    @Option(names = "--nginx-workers", defaultValue = "2", paramLabel = "W", description = "nginx worker processes (default ${DEFAULT-VALUE}).")
    private int nginxWorkers;

    @Option(names = "--io-threads", defaultValue = "1", paramLabel = "N", description = "ManCom proxy's event loops (default ${DEFAULT-VALUE}).")
    private int ioThreads;

    /**
     * One wrk run's figures; {@code mancomCpuMicros}, {@code nginxCpuMicros} and {@code wrkCpuMicros}
     * are the CPU time this JVM (the ManCom proxy; idle otherwise), nginx (master and workers) and
     * wrk spent per request, which the machine's load does not change much.
     */
    record Figures(double rps, double p99Millis, long errors, double mancomCpuMicros, double nginxCpuMicros,
                   double wrkCpuMicros) {
        /** CPU of every process on the path, per request. */
        double pathCpuMicros() {
            return mancomCpuMicros + nginxCpuMicros + wrkCpuMicros;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (seconds < 1 || warmup < 0 || runs < 1 || wrkThreads < 1 || nginxWorkers < 1 || connections.stream().anyMatch(c -> c < 1)) {
            throw new ParameterException(spec.commandLine(), "--seconds, --runs, --wrk-threads, --nginx-workers and --connections must be positive");
        }
        if (!Nginx.installed() || !Tools.runs("wrk", "--version")) {
            throw new IOException("bench proxy needs nginx and wrk (apt-get install nginx wrk)");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("mancom-bench-proxy");
        int backH1 = Nginx.freePort();
        int backH2c = Nginx.freePort();
        int nginxProxy = Nginx.freePort();
        String http = """
                  keepalive_requests 100000000;
                  server { listen 127.0.0.1:%d; listen 127.0.0.1:%d http2;
                    location / { return 200 "hello from nginx\\n"; } }
                  server { listen 127.0.0.1:%d;
                    location / { proxy_pass http://127.0.0.1:%d; } }
                """.formatted(backH1, backH2c, nginxProxy, backH1);
        try (Nginx nginx = Nginx.start(dir.resolve("nginx"), nginxWorkers, http, List.of(backH1, backH2c, nginxProxy));
             ProxyServer mancom = ProxyServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                     ProxyConfig.of(Map.of("upstream", "h2c://127.0.0.1:" + backH2c, "upstream-connections", "1",
                             "upstream-queue", "100000"), "bench"), ioThreads)) {
            out.printf(Locale.ROOT, "bench proxy: %s; nginx %d workers; wrk -t%d, %d s per run; load average %s%n",
                    BenchKit.javaAndCpus(), nginxWorkers, wrkThreads, seconds, loadAverage());
            out.printf(Locale.ROOT, "%-6s %-12s %10s %10s %7s %14s %14s %12s%n", "conns", "target", "req/s", "p99 ms", "errors",
                    "mancom us/req", "nginx us/req", "wrk us/req");
            out.flush();
            if (warmup > 0) {
                wrk(mancom.address().getPort(), 100, warmup, nginx.pid());
            }
            Map<String, Integer> ports = Map.of("direct", backH1, "mancom-h2c", mancom.address().getPort(), "nginx-proxy", nginxProxy);
            List<String> order = new ArrayList<>(List.of("direct", "mancom-h2c", "nginx-proxy"));
            for (int c : connections) {
                Map<String, List<Figures>> results = new java.util.TreeMap<>();
                for (int r = 0; r < runs; r++) {
                    for (String target : order) {
                        Figures f = wrk(ports.get(target), c, seconds, nginx.pid());
                        results.computeIfAbsent(target, k -> new ArrayList<>()).add(f);
                        out.printf(Locale.ROOT, "%-6d %-12s %10.0f %10.2f %7d %14.1f %14.1f %12.1f%n", c, target, f.rps,
                                f.p99Millis, f.errors, f.mancomCpuMicros, f.nginxCpuMicros, f.wrkCpuMicros);
                        out.flush();
                    }
                    java.util.Collections.rotate(order, 1); // alternate which goes first
                }
                Figures d = median(results.get("direct"));
                Figures m = median(results.get("mancom-h2c"));
                Figures n = median(results.get("nginx-proxy"));
                out.printf(Locale.ROOT, "%-6d mancom/direct: rps %.2f, p99 %.2fx; mancom/nginx-proxy: rps %.2f, p99 %.2fx%n",
                        c, m.rps / d.rps, m.p99Millis / d.p99Millis, m.rps / n.rps, m.p99Millis / n.p99Millis);
                // When wrk, nginx and the proxy share the machine's CPUs and those are the bottleneck,
                // the RPS ratio cannot pass the ratio of CPU spent per request on each path.
                out.printf(Locale.ROOT, "%-6d cpu per request, all processes: direct %.1f us, mancom path %.1f us;"
                                + " CPU-bound rps ceiling %.2f of direct%n", c, d.pathCpuMicros(), m.pathCpuMicros(),
                        d.pathCpuMicros() / m.pathCpuMicros());
                out.flush();
            }
            out.println("mancom proxy counters: " + mancom.handler().stats());
            out.printf(Locale.ROOT, "load average after: %s%n", loadAverage());
            out.flush();
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return 0;
    }

    private Figures wrk(int port, int conns, int seconds, long nginxPid) throws IOException, InterruptedException {
        int threads = Math.min(wrkThreads, conns);
        long jvm0 = jvmCpuNanos();
        long nginx0 = treeCpuNanos(nginxPid);
        long children0 = reapedChildrenCpuNanos();
        Process p = new ProcessBuilder("wrk", "-t" + threads, "-c" + conns, "-d" + seconds + "s", "--latency",
                "--timeout", "10s", "http://127.0.0.1:" + port + "/").redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(seconds + 60L, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("wrk failed: " + text);
        }
        long jvm = jvmCpuNanos() - jvm0;
        long nginxCpu = treeCpuNanos(nginxPid) - nginx0;
        long wrkCpu = reapedChildrenCpuNanos() - children0; // wrk is the only child that ended meanwhile
        Matcher rps = RPS.matcher(text);
        Matcher p99 = P99.matcher(text);
        if (!rps.find() || !p99.find()) {
            throw new IOException("cannot read wrk's output: " + text);
        }
        double ms = Double.parseDouble(p99.group(1)) * switch (p99.group(2)) {
            case "us" -> 0.001;
            case "s" -> 1000.0;
            default -> 1.0;
        };
        long errors = 0;
        Matcher non2xx = NON_2XX.matcher(text);
        if (non2xx.find()) {
            errors += Long.parseLong(non2xx.group(1));
        }
        Matcher socket = SOCKET_ERRORS.matcher(text);
        if (socket.find()) {
            for (int g = 1; g <= 4; g++) {
                errors += Long.parseLong(socket.group(g));
            }
        }
        double rate = Double.parseDouble(rps.group(1));
        double requests = Math.max(1, rate * seconds);
        return new Figures(rate, ms, errors, jvm / 1e3 / requests, nginxCpu / 1e3 / requests, wrkCpu / 1e3 / requests);
    }

    private static long jvmCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
    }

    /** CPU time (user + system) of a process and its children, from /proc (clock ticks of 10 ms). */
    private static long treeCpuNanos(long pid) {
        long ticks = 0;
        List<Long> pids = new ArrayList<>();
        pids.add(pid);
        ProcessHandle.of(pid).ifPresent(h -> h.descendants().forEach(d -> pids.add(d.pid())));
        for (long p : pids) {
            try {
                String stat = Files.readString(Path.of("/proc", Long.toString(p), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
            } catch (IOException | RuntimeException gone) {
                // exited in between
            }
        }
        return ticks * 10_000_000L;
    }

    /**
     * CPU time (user + system) of this process's children that ended and were waited for
     * ({@code cutime}, {@code cstime} of /proc/self/stat, clock ticks of 10 ms): wrk, once
     * {@code waitFor} returned.
     */
    private static long reapedChildrenCpuNanos() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[13]) + Long.parseLong(f[14])) * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static Figures median(List<Figures> runs) {
        double[] rps = runs.stream().mapToDouble(Figures::rps).sorted().toArray();
        double[] p99 = runs.stream().mapToDouble(Figures::p99Millis).sorted().toArray();
        double[] cpu = runs.stream().mapToDouble(Figures::mancomCpuMicros).sorted().toArray();
        double[] ncpu = runs.stream().mapToDouble(Figures::nginxCpuMicros).sorted().toArray();
        double[] wcpu = runs.stream().mapToDouble(Figures::wrkCpuMicros).sorted().toArray();
        return new Figures(rps[rps.length / 2], p99[p99.length / 2], runs.stream().mapToLong(Figures::errors).sum(),
                cpu[cpu.length / 2], ncpu[ncpu.length / 2], wcpu[wcpu.length / 2]);
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }
}
