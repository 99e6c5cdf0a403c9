package io.mancom.cli.bench;

import io.mancom.ManCom;
import io.mancom.TcpAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code mancom bench flood}: a connection flood from a refused address against {@code tcp.allow}
 * enforced in the kernel (a classic BPF filter on the listening socket) versus the same rule
 * checked in user space right after accept ({@code -Dio.mancom.tcp.kernelFilter=false}), with
 * good clients' echo throughput meanwhile, all in one run.
 *
 * <p>The server is a ManCom echo service with {@code tcp.allow = ["127.0.0.1/32"]}. The flood
 * makes non-blocking connection attempts from 127.0.0.2 at a fixed rate, by default through libc on
 * 256 reused sockets ({@link NativeFlood}, the cheapest SYN a process can send), or with
 * {@code --flooder nio} a {@code SocketChannel} per attempt (SO_LINGER 0, each closed when the next
 * ones come); the flooder is on the same 2 CPUs as the server and the clients, so it should take
 * as little of them as it can, and its thread's CPU and achieved rate are reported. The good
 * clients stream from 127.0.0.1 and count the bytes echoed. The server's
 * CPU is the CPU time of its event-loop threads ({@code mancom-io-*}; the clients are plain
 * sockets on other threads). On loopback the kernel's receive path, the filter included, runs in
 * the sending thread's context: the kernel filter's cost shows up as the flooder's, not the
 * server's. On a real interface it is softirq time, again not the server process's.
 */
@Command(name = "flood", mixinStandardHelpOptions = true,
        description = {"A connection flood from a refused address: kernel filter (classic BPF) vs a check after accept.",
                "",
                "Per mode and round: the server's idle CPU, its CPU under the flood alone, then the good clients'"
                        + " echo throughput in slices with the flood off and on, alternating (medians)."})
public final class FloodBenchCommand implements Callable<Integer> {
    private static final String SERVICE = "echo";
    /** Slices of the throughput phase with the flood off, and as many with it on, alternating. */
    private static final int SLICES = 6;

    @Spec
    private CommandSpec spec;

    @Option(names = "--rate", defaultValue = "2000", paramLabel = "N",
            description = "Flood connection attempts per second (default ${DEFAULT-VALUE}).")
    private int rate;

    @Option(names = "--seconds", defaultValue = "4", paramLabel = "S",
            description = "Seconds per phase (default ${DEFAULT-VALUE}).")
    private double seconds;

    @Option(names = "--clients", defaultValue = "2", paramLabel = "C",
            description = "Good client connections, each streaming (default ${DEFAULT-VALUE}).")
    private int clients;

    @Option(names = "--rounds", defaultValue = "2", paramLabel = "R",
            description = "Rounds; each measures both modes, alternating (default ${DEFAULT-VALUE}).")
    private int rounds;

    @Option(names = "--flooder", defaultValue = "native", paramLabel = "KIND",
            description = {"How the flood is made: native (libc through JNA, a few reused sockets: the cheapest"
                    + " SYN), or nio (a SocketChannel per attempt); native falls back to nio where it cannot run"
                    + " (default ${DEFAULT-VALUE})."})
    private String flooder;

    @Override
    public Integer call() throws Exception {
        if (rate < 1 || rate > 100_000 || seconds <= 0 || seconds > 600 || clients < 1 || clients > 64
                || rounds < 1 || rounds > 100) {
            throw new ParameterException(spec.commandLine(),
                    "--rate 1..100000, --seconds 0..600, --clients 1..64, --rounds 1..100");
        }
        if (!flooder.equals("native") && !flooder.equals("nio")) {
            throw new ParameterException(spec.commandLine(), "--flooder native|nio");
        }
        PrintWriter out = spec.commandLine().getOut();
        String why = flooder.equals("native") ? NativeFlood.unavailable() : null;
        nativeFlood = flooder.equals("native") && why == null;
        out.printf(Locale.ROOT, "bench flood: %d attempts/s from 127.0.0.2 (%s flooder%s), %d good client(s) from 127.0.0.1,"
                + " %.1f s per phase; %s; load average %s%n", rate, nativeFlood ? "native" : "nio",
                why == null ? "" : ", native unavailable: " + why, clients, seconds, BenchKit.javaAndCpus(), loadAverage());
        // flooder-cpu: the flood thread's own CPU (user and system, which on loopback includes the
        // kernel's receive path for its SYNs, the filter too): CPU the server's machine would not
        // spend if the flood came from elsewhere, but which this machine's other threads lose.
        out.println("mode    round  idle-cpu  flood-cpu  flood-cpu-idle  flooder-cpu  attempts/s  completed/attempts"
                + "  good MB/s  flooded MB/s  ratio");
        double[][] floodCpu = new double[2][rounds];
        double[][] ratio = new double[2][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < 2; m++) {
                boolean kernel = (m == 0) == (r % 2 == 0); // alternate which mode goes first
                int mode = kernel ? 0 : 1;
                Result res = measure(kernel);
                floodCpu[mode][r] = res.floodCpu - res.idleCpu;
                ratio[mode][r] = res.flooded / res.good;
                out.printf(Locale.ROOT, "%-7s %5d  %7.1f%%  %8.1f%%  %13.1f%%  %10.1f%%  %10.0f  %9d/%-8d  %9.1f  %12.1f"
                                + "  %5.2f%n",
                        kernel ? "kernel" : "user", r + 1, 100 * res.idleCpu, 100 * res.floodCpu,
                        100 * (res.floodCpu - res.idleCpu), 100 * res.flooderCpu, res.attemptRate, res.completed,
                        res.attempts, res.good / 1e6, res.flooded / 1e6, res.flooded / res.good);
                out.flush();
            }
        }
        double k = median(floodCpu[0]);
        double u = median(floodCpu[1]);
        out.printf(Locale.ROOT, "median server CPU under the flood above idle: kernel %.2f%%, user %.2f%% of one CPU;"
                + " kernel/user %.3f%n", 100 * k, 100 * u, u > 0 ? k / u : Double.NaN);
        out.printf(Locale.ROOT, "median good throughput flooded/unflooded: kernel %.2f, user %.2f; load average now %s%n",
                median(ratio[0]), median(ratio[1]), loadAverage());
        out.flush();
        return 0;
    }

    private record Result(double idleCpu, double floodCpu, double flooderCpu, double attemptRate, long attempts,
                          long completed, double good, double flooded) {
    }

    /**
     * A running flood on its own thread: attempts made, handshakes completed (accepted by the
     * kernel: the user-space mode), attempts that could not be made, and the thread's CPU. The
     * counters may be read from any thread; {@link #close()} stops the thread.
     */
    abstract static class Flooder implements AutoCloseable {
        final AtomicLong attempts = new AtomicLong();
        final LongAdder completed = new LongAdder();
        /** Attempts whose socket could not be made or connected at all (not counted as SYNs sent). */
        final LongAdder failed = new LongAdder();
        final AtomicBoolean stop = new AtomicBoolean();
        private Thread thread;

        /** Starts {@code body} on the flood's thread; once, from the subclass's constructor. */
        final void start(Runnable body) {
            thread = daemon("flood", body);
        }

        /** CPU nanoseconds of the flood's thread so far (-1 once it ended). */
        final long cpuNanos() {
            return ManagementFactory.getThreadMXBean().getThreadCpuTime(thread.getId());
        }

        @Override
        public final void close() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
        }
    }

    private boolean nativeFlood;

    private Flooder flood(int port) {
        return nativeFlood ? new NativeFlood(port, rate) : new Flood(port, rate);
    }

    /** CPU of the server and throughput of the good clients, phase by phase, for one mode. */
    private Result measure(boolean kernel) throws Exception {
        System.setProperty("io.mancom.tcp.kernelFilter", Boolean.toString(kernel));
        try (ManCom server = BenchKit.runtime("mancom.services.demo = null\n"
                + "mancom.services." + SERVICE + " { endpoint = \"tcp://127.0.0.1:0\"\n"
                + "  tcp { allow = [\"127.0.0.1/32\"], backlog = 4096 } }\n", 1)) {
            server.registerDataReceiver(SERVICE, (c, d) -> c.write(d));
            server.awaitReady(Duration.ofSeconds(30));
            int port = ((TcpAddress) BenchKit.bound(server, SERVICE).address()).port();
            long phase = (long) (seconds * 1e9);

            long c0 = serverCpu();
            long t0 = System.nanoTime();
            BenchKit.sleepNanos(phase / 2);
            double idle = (serverCpu() - c0) / (double) (System.nanoTime() - t0);

            double flood;
            double flooderCpu;
            double attemptRate;
            long attempts;
            long completed;
            try (Flooder f = flood(port)) {
                long c1 = serverCpu();
                long f1 = f.cpuNanos();
                long t1 = System.nanoTime();
                BenchKit.sleepNanos(phase);
                long elapsed = System.nanoTime() - t1;
                flood = (serverCpu() - c1) / (double) elapsed;
                flooderCpu = (f.cpuNanos() - f1) / (double) elapsed;
                attempts = f.attempts.get();
                attemptRate = (attempts - f.failed.sum()) / (elapsed / 1e9);
                completed = f.completed.sum();
            }

            // The good clients stream throughout; the flood is on in every other slice, so that
            // both kinds of slice see the same machine (others' load comes and goes).
            double[] plain = new double[SLICES];
            double[] flooded = new double[SLICES];
            try (Good g = new Good(port, clients)) {
                BenchKit.sleepNanos(phase / 4);
                long slice = phase / SLICES;
                for (int i = 0; i < SLICES; i++) {
                    plain[i] = g.bytesPerSecond(slice);
                    try (Flooder f = flood(port)) {
                        flooded[i] = g.bytesPerSecond(slice);
                    }
                }
            }
            double good = median(plain);
            double underFlood = median(flooded);
            return new Result(idle, flood, flooderCpu, attemptRate, attempts, completed, good, underFlood);
        } finally {
            System.clearProperty("io.mancom.tcp.kernelFilter");
        }
    }

    /** CPU nanoseconds of the runtime's event-loop threads so far. */
    private static long serverCpu() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t != null && t.getThreadName().startsWith("mancom-io")) {
                long cpu = mx.getThreadCpuTime(t.getThreadId());
                if (cpu > 0) {
                    sum += cpu;
                }
            }
        }
        return sum;
    }

    /** Streaming clients from 127.0.0.1: one writer and one reader thread per connection. */
    private static final class Good implements AutoCloseable {
        private final List<Socket> sockets = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private final LongAdder received = new LongAdder();
        private final AtomicBoolean stop = new AtomicBoolean();

        Good(int port, int n) throws IOException {
            for (int i = 0; i < n; i++) {
                Socket s = new Socket();
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                sockets.add(s);
                OutputStream o = s.getOutputStream();
                InputStream in = s.getInputStream();
                threads.add(daemon("good-writer-" + i, () -> {
                    byte[] b = new byte[32 * 1024];
                    try {
                        while (!stop.get()) {
                            o.write(b);
                        }
                    } catch (IOException e) {
                        // closed at the end
                    }
                }));
                threads.add(daemon("good-reader-" + i, () -> {
                    byte[] b = new byte[64 * 1024];
                    try {
                        int n2;
                        while ((n2 = in.read(b)) > 0) {
                            received.add(n2);
                        }
                    } catch (IOException e) {
                        // closed at the end
                    }
                }));
            }
        }

        /** Bytes echoed per second over the next {@code nanos}. */
        double bytesPerSecond(long nanos) throws InterruptedException {
            long b0 = received.sum();
            long t0 = System.nanoTime();
            BenchKit.sleepNanos(nanos);
            return (received.sum() - b0) / ((System.nanoTime() - t0) / 1e9);
        }

        @Override
        public void close() throws IOException, InterruptedException {
            stop.set(true);
            for (Socket s : sockets) {
                s.close();
            }
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
    }

    /**
     * Non-blocking connection attempts from 127.0.0.2 at a fixed rate, each with SO_LINGER 0 (so
     * closing one leaves no TIME_WAIT and no port in use), the 256 newest kept open. Counts the
     * attempts, and those whose handshake completed (accepted by the kernel: the user-space mode).
     */
    private static final class Flood extends Flooder {
        Flood(int port, int rate) {
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", port);
            start(() -> {
                ArrayDeque<SocketChannel> open = new ArrayDeque<>();
                long start = System.nanoTime();
                try {
                    while (!stop.get()) {
                        long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
                        while (attempts.get() < due && !stop.get()) {
                            SocketChannel ch = SocketChannel.open();
                            ch.configureBlocking(false);
                            ch.setOption(StandardSocketOptions.SO_LINGER, 0);
                            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                            ch.bind(new InetSocketAddress("127.0.0.2", 0));
                            try {
                                if (ch.connect(target)) {
                                    completed.increment();
                                }
                            } catch (IOException e) {
                                // refused or reset at once
                            }
                            attempts.incrementAndGet();
                            open.add(ch);
                            while (open.size() > 256) {
                                retire(open.poll());
                            }
                        }
                        BenchKit.sleepNanos(1_000_000);
                    }
                } catch (IOException | InterruptedException e) {
                    // stopped
                } finally {
                    open.forEach(this::retire);
                }
            });
        }

        private void retire(SocketChannel ch) {
            try {
                if (ch.isConnectionPending() && ch.finishConnect()) {
                    completed.increment();
                }
            } catch (IOException e) {
                completed.increment(); // reset by the server after accept: the handshake had completed
            }
            try {
                ch.close();
            } catch (IOException e) {
                // nothing to do
            }
        }

    }

    private static Thread daemon(String name, Runnable body) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }
}
