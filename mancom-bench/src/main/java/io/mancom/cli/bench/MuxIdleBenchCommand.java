package io.mancom.cli.bench;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import javax.management.ObjectName;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code mancom bench mux-idle}: heap per idle open stream of one mux session, on each side.
 *
 * <p>Three cases, each on a fresh runtime over loopback TCP:
 * <ul>
 *   <li><b>opener</b>: a ManCom client opens the streams ({@code connectAsync}) to a raw peer that
 *       reads and drops every frame, so the heap measured is the opening side's alone;</li>
 *   <li><b>acceptor</b>: a raw peer writes OpenStream and a service preamble for every stream to a
 *       ManCom server whose service has an acceptor and a data receiver, so the heap measured is
 *       the accepting side's alone;</li>
 *   <li><b>pair</b>: a ManCom client opens the streams to a ManCom server in this process: both
 *       ends of every stream.</li>
 * </ul>
 * Each case opens one stream first (the session, its buffers and the classes exist then), collects
 * garbage and reads the used heap, opens N more, collects again and reads again. The raw peers keep
 * no per-stream state. The application's own reference to each client {@code Connection} (an array
 * slot, 4 or 8 bytes) is counted.
 */
@Command(name = "mux-idle", mixinStandardHelpOptions = true,
        description = {"Heap per idle open stream of one mux session (opener side, accepting side, both).",
                "",
                "Opens --streams idle streams over one loopback TCP mux link, collects garbage before and after"
                        + " (MemoryMXBean), and reports the used heap per stream. opener and acceptor measure one side"
                        + " against a raw peer that keeps no per-stream state; pair measures two ManCom runtimes in this"
                        + " process (both ends). Target: 2 KiB or less per stream and side."})
public final class MuxIdleBenchCommand implements Callable<Integer> {
    private static final String SERVICE = "idle";
    private static final Duration T = Duration.ofSeconds(120);
    private static final double TARGET = 2048;
    private static final int OPEN_ROUND = 5000;

    @Spec
    private CommandSpec spec;

    @Option(names = "--streams", defaultValue = "100000", paramLabel = "N",
            description = "Idle streams to open (default ${DEFAULT-VALUE}).")
    private int streams;

    @Option(names = "--cases", split = ",", defaultValue = "opener,acceptor,pair", paramLabel = "CASE[,CASE...]",
            description = "Which cases to measure: opener, acceptor, pair (default ${DEFAULT-VALUE}).")
    private List<String> cases;

    @Option(names = "--histogram", defaultValue = "0", paramLabel = "K",
            description = "Also print the K classes whose instances grew most per stream (a class histogram diff).")
    private int histogram;

    @Mixin
    private BenchOptions.Threads threads = new BenchOptions.Threads();

    @Override
    public Integer call() throws Exception {
        validate();
        int threads = this.threads.threads();
        PrintWriter out = spec.commandLine().getOut();
        out.println("ManCom mux idle-stream heap (loopback TCP, one session)");
        out.printf(Locale.ROOT, "  streams   %d idle streams; used heap after full GC (MemoryMXBean), before and after%n", streams);
        out.printf(Locale.ROOT, "  threads   %d event-loop thread%s per runtime; %s; max heap %s%n", threads,
                threads == 1 ? "" : "s", BenchKit.javaAndCpus(), Stats.bytes(Runtime.getRuntime().maxMemory()));
        out.println();
        out.flush();
        Table table = new Table("  ", "case", "streams>", "heap before>", "heap after>", "bytes/stream>", "target>", "")
                .minWidth(0, "acceptor".length()).minWidth(1, Integer.toString(streams).length())
                .minWidth(2, "1000.0 MiB".length()).minWidth(3, "1000.0 MiB".length()).minWidth(5, "4 KiB (2 sides)".length());
        List<String> printed = new ArrayList<>();
        for (String c : cases) {
            Result r = switch (c) {
                case "opener" -> opener(threads);
                case "acceptor" -> acceptor(threads);
                case "pair" -> pair(threads);
                default -> throw new IllegalStateException(c);
            };
            double perStream = (double) (r.after - r.before) / streams;
            double target = c.equals("pair") ? 2 * TARGET : TARGET;
            table.row(c, Integer.toString(streams), Stats.bytes(r.before), Stats.bytes(r.after),
                    String.format(Locale.ROOT, "%.0f", perStream), Stats.bytes((long) target) + (c.equals("pair") ? " (2 sides)" : ""),
                    perStream <= target ? "met" : "MISSED");
            BenchKit.printNewLines(out, table, printed);
            if (r.histogram != null) {
                out.println();
                out.print(r.histogram);
                out.println();
                out.flush();
            }
        }
        out.flush();
        return 0;
    }

    private void validate() {
        List<String> problems = new ArrayList<>();
        if (streams < 1 || streams > 10_000_000) {
            problems.add("--streams must be from 1 to 10000000: " + streams);
        }
        if (cases == null || cases.isEmpty() || !List.of("opener", "acceptor", "pair").containsAll(cases)) {
            problems.add("--cases must list some of opener, acceptor, pair: " + cases);
        }
        if (histogram < 0 || histogram > 1000) {
            problems.add("--histogram must be from 0 to 1000: " + histogram);
        }
        threads.validate(problems);
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), String.join("; ", problems));
        }
    }

    private record Result(long before, long after, String histogram) {
    }

    private String muxBlock() {
        return "mux { enabled = on, max-streams = " + (streams + 16) + " }";
    }

    /** Where the heap is measured: call {@link #before()} with one stream open, {@link #after()} with all. */
    private final class Heap {
        private long before;
        private Map<String, long[]> histoBefore;
        private final String name;

        Heap(String name) {
            this.name = name;
        }

        void before() throws Exception {
            histoBefore = histogram > 0 ? classHistogram() : null;
            before = BenchKit.usedHeapAfterGc();
        }

        Result after() throws Exception {
            long after = BenchKit.usedHeapAfterGc();
            String diff = histogram > 0 ? diff(name, histoBefore, classHistogram()) : null;
            return new Result(before, after, diff);
        }
    }

    /** A ManCom client opens the streams; the peer drops every frame. */
    private Result opener(int threads) throws Exception {
        try (SinkPeer peer = new SinkPeer()) {
            try (ManCom client = BenchKit.runtime("mancom.services." + SERVICE + " { endpoint = \"tcp://127.0.0.1:"
                    + peer.port() + "\", " + muxBlock() + " }\n", threads)) {
                Heap heap = new Heap("opener");
                Connection[] held = new Connection[streams + 1];
                held[0] = client.connectAsync(SERVICE, (c, d) -> { }).get(T.toSeconds(), TimeUnit.SECONDS);
                heap.before();
                openAll(client, held, 1, held.length);
                awaitCount(peer.opens, streams + 1, "OpenStream frames seen by the raw peer", peer.failure);
                Result r = heap.after();
                reachabilityFence(held);
                return r;
            }
        }
    }

    /** A raw peer opens the streams to a ManCom server. */
    private Result acceptor(int threads) throws Exception {
        try (ManCom server = BenchKit.runtime("mancom.services." + SERVICE + " { endpoint = \"tcp://127.0.0.1:0\", "
                + muxBlock() + " }\n", threads)) {
            AtomicLong accepted = new AtomicLong();
            server.registerAcceptor(SERVICE, c -> accepted.incrementAndGet());
            server.registerDataReceiver(SERVICE, (c, d) -> { });
            server.awaitReady(Duration.ofSeconds(10));
            TcpAddress at = (TcpAddress) BenchKit.bound(server, SERVICE).address();
            try (OpenerPeer peer = new OpenerPeer(at)) {
                Heap heap = new Heap("acceptor");
                peer.open(0, 1);
                awaitCount(accepted, 1, "streams accepted", peer.failure);
                heap.before();
                // In rounds the server has taken before the next begins (see pair()).
                for (long from = 1; from <= streams; from += OPEN_ROUND) {
                    long count = Math.min(OPEN_ROUND, streams + 1 - from);
                    peer.open(from, count);
                    awaitCount(accepted, from + count, "streams accepted", peer.failure);
                }
                return heap.after();
            }
        }
    }

    /** Two ManCom runtimes: both ends of every stream are in this heap. */
    private Result pair(int threads) throws Exception {
        try (ManCom server = BenchKit.runtime("mancom.services." + SERVICE + " { endpoint = \"tcp://127.0.0.1:0\", "
                + muxBlock() + " }\n", threads)) {
            AtomicLong accepted = new AtomicLong();
            server.registerAcceptor(SERVICE, c -> accepted.incrementAndGet());
            server.registerDataReceiver(SERVICE, (c, d) -> { });
            server.awaitReady(Duration.ofSeconds(10));
            EndPoint at = BenchKit.bound(server, SERVICE);
            try (ManCom client = BenchKit.runtime("mancom.services." + SERVICE + " { endpoint = \"" + at + "\", "
                    + muxBlock() + " }\n", threads)) {
                Heap heap = new Heap("pair");
                Connection[] held = new Connection[streams + 1];
                held[0] = client.connectAsync(SERVICE, (c, d) -> { }).get(T.toSeconds(), TimeUnit.SECONDS);
                awaitCount(accepted, 1, "streams accepted", new AtomicReference<>());
                heap.before();
                // In rounds that the server has taken before the next begins: the server answers
                // every preamble with a WindowUpdate, and a burst of ~10,000 opens in one read makes
                // it end the session ("the peer does not read"; MuxOpenBurstTest, docs/benchmarks.md).
                for (int from = 1; from < held.length; from += OPEN_ROUND) {
                    int to = Math.min(held.length, from + OPEN_ROUND);
                    openAll(client, held, from, to);
                    awaitCount(accepted, to, "streams accepted", new AtomicReference<>());
                }
                Result r = heap.after();
                reachabilityFence(held);
                return r;
            }
        }
    }

    private static void reachabilityFence(Object o) {
        java.lang.ref.Reference.reachabilityFence(o);
    }

    /** Opens streams into held[from..to) with at most 1,000 opens in flight. */
    private static void openAll(ManCom client, Connection[] held, int from, int to) throws Exception {
        Semaphore inFlight = new Semaphore(1000);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        DataReceiver idle = (c, d) -> { };
        for (int i = from; i < to; i++) {
            if (!inFlight.tryAcquire(T.toSeconds(), TimeUnit.SECONDS)) {
                throw new IOException("opening stream " + i + " took longer than " + T);
            }
            if (failure.get() != null) {
                throw new IOException("opening a stream failed: " + failure.get().getMessage(), failure.get());
            }
            int slot = i;
            CompletableFuture<Connection> f = client.connectAsync(SERVICE, idle);
            f.whenComplete((c, err) -> {
                if (err != null) {
                    failure.compareAndSet(null, err);
                } else {
                    held[slot] = c;
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
    }

    private static void awaitCount(AtomicLong count, long expected, String what, AtomicReference<Throwable> failure)
            throws Exception {
        long deadline = System.nanoTime() + T.toNanos();
        while (count.get() < expected) {
            if (failure.get() != null) {
                throw new IOException("the raw peer failed: " + failure.get().getMessage(), failure.get());
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(count.get() + " of " + expected + " " + what + " after " + T);
            }
            Thread.sleep(5);
        }
    }

    // ---- raw peers: plain sockets speaking the frame format, keeping no per-stream state ----

    /** Accepts one connection, reads every frame and drops it, counting OpenStreams. */
    private static final class SinkPeer implements AutoCloseable {
        final AtomicLong opens = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        private volatile Socket socket;

        SinkPeer() throws IOException {
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    socket = s;
                    DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream(), 1 << 16));
                    byte[] header = new byte[8];
                    while (true) {
                        in.readFully(header);
                        int length = (header[4] & 0xff) | (header[5] & 0xff) << 8 | (header[6] & 0xff) << 16;
                        int flags = header[7] & 0xff;
                        if (flags == 0) {
                            in.skipNBytes(length);
                        } else if (flags == 2) {
                            opens.incrementAndGet();
                        }
                    }
                } catch (EOFException e) {
                    // the runtime closed the link
                } catch (IOException e) {
                    if (!server.isClosed()) {
                        failure.compareAndSet(null, e);
                    }
                }
            }, "bench-mux-idle-sink");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            Socket s = socket;
            if (s != null) {
                s.close();
            }
        }
    }

    /** Dials a ManCom server (which makes this side the initiator: even ids) and opens streams. */
    private static final class OpenerPeer implements AutoCloseable {
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final Socket socket;
        private final OutputStream out;

        OpenerPeer(TcpAddress at) throws IOException {
            socket = new Socket(at.host(), at.port());
            out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
            Thread t = new Thread(() -> {
                try (InputStream in = socket.getInputStream()) {
                    in.transferTo(OutputStream.nullOutputStream()); // Hello, WindowUpdates: dropped
                    if (!socket.isClosed()) {
                        failure.compareAndSet(null, new IOException("the ManCom server closed the link"));
                    }
                } catch (IOException e) {
                    if (!socket.isClosed()) {
                        failure.compareAndSet(null, e);
                    }
                }
            }, "bench-mux-idle-opener");
            t.setDaemon(true);
            t.start();
        }

        /** Opens streams number {@code from} to {@code from + count - 1} (ids twice that). */
        void open(long from, long count) throws IOException {
            byte[] name = SERVICE.getBytes(StandardCharsets.UTF_8);
            ByteBuffer frame = ByteBuffer.allocate(16 + 1 + name.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (long i = from; i < from + count; i++) {
                int id = (int) (2 * i);
                frame.clear();
                frame.putInt(id).putShort((short) 0).put((byte) 0).put((byte) 2); // OpenStream
                frame.putInt(id).putShort((short) (1 + name.length)).put((byte) 0).put((byte) 0); // Data: the preamble
                frame.put((byte) name.length).put(name);
                out.write(frame.array(), 0, frame.position());
            }
            out.flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    // ---- class histograms, to say where the bytes are ----

    /** class name -> {instances, bytes}, from the JVM's GC.class_histogram (which collects first). */
    private static Map<String, long[]> classHistogram() throws Exception {
        String text = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        Map<String, long[]> m = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 4 && f[0].endsWith(":")) {
                m.put(f[3], new long[] {Long.parseLong(f[1]), Long.parseLong(f[2])});
            }
        }
        return m;
    }

    private String diff(String name, Map<String, long[]> before, Map<String, long[]> after) {
        record Grew(String cls, double instances, double bytes) {
        }
        List<Grew> grew = new ArrayList<>();
        for (Map.Entry<String, long[]> e : after.entrySet()) {
            long[] b = before.getOrDefault(e.getKey(), new long[2]);
            long bytes = e.getValue()[1] - b[1];
            if (bytes > 0) {
                grew.add(new Grew(e.getKey(), (double) (e.getValue()[0] - b[0]) / streams, (double) bytes / streams));
            }
        }
        grew.sort((x, y) -> Double.compare(y.bytes(), x.bytes()));
        Table t = new Table("  ", "class", "instances/stream>", "bytes/stream>");
        double total = grew.stream().mapToDouble(Grew::bytes).sum();
        for (Grew g : grew.subList(0, Math.min(histogram, grew.size()))) {
            t.row(g.cls(), String.format(Locale.ROOT, "%.2f", g.instances()), String.format(Locale.ROOT, "%.0f", g.bytes()));
        }
        t.row("(all classes that grew)", "", String.format(Locale.ROOT, "%.0f", total));
        StringBuilder sb = new StringBuilder(name + ": the classes that grew most per stream (class histogram diff)\n");
        t.lines().forEach(l -> sb.append(l).append('\n'));
        return sb.toString();
    }
}
