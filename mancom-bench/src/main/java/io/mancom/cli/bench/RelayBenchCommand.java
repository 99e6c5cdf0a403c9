package io.mancom.cli.bench;

import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.spi.ConfigTools;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.daemon.internal.Peer;
import io.mancom.daemon.internal.RelayOwner;
import io.mancom.testkit.PtyPair;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.ReferenceCountUtil;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code mancom bench relay}: a pty's one-way throughput through the daemon's relay (a
 * {@link RelayOwner} owning the line, its bytes carried as a mux stream over a Unix socket to a
 * "process") against a ManCom service on the same line directly, in the same run.
 *
 * <pre>
 *   direct rx    FileOutputStream(b) ──socat──&gt; ManCom service on serial://a
 *   relayed rx   FileOutputStream(b) ──socat──&gt; RelayOwner on serial://a ──mux stream, Unix socket──&gt; process
 *   direct tx    ManCom service on serial://a ──socat──&gt; FileInputStream(b)
 *   relayed tx   process ──mux stream, Unix socket──&gt; RelayOwner on serial://a ──socat──&gt; FileInputStream(b)
 * </pre>
 *
 * The direct ways are those of {@code bench serial}. The "process" is the process side of
 * {@code ManCom-Carry: mux} reduced to its wire part: a responder mux session on the Unix
 * connection, reading (or writing) the stream with a plain Netty handler, so the figure is the
 * relay's cost (the daemon's copy and the second hop). The owner is started and the stream handed
 * over before a measurement starts. A benchmark, not a test: nothing asserts the figures.
 */
@Command(name = "relay", mixinStandardHelpOptions = true,
        description = {"A pty's throughput through the daemon's relay (RelayOwner + mux stream over a Unix socket)"
                + " against a ManCom service on the pty directly.",
                "",
                "Needs socat and Linux (native epoll for the Unix socket). In every run, moves --size bytes in --chunk"
                        + " writes each way: direct rx/tx as bench serial does, relayed rx/tx through a RelayOwner to a"
                        + " process on a Unix socket. Reports MB/s and the ratios relayed/direct, per run and as medians."})
public final class RelayBenchCommand implements Callable<Integer> {
    private static final Duration READY = Duration.ofSeconds(10);
    private static final String SERVICE = "line";

    @Spec
    private CommandSpec spec;

    @Option(names = "--size", defaultValue = "33554432", paramLabel = "BYTES",
            description = "Bytes per transfer (default ${DEFAULT-VALUE}, 32 MiB).")
    private int size;

    @Option(names = "--chunk", defaultValue = "65536", paramLabel = "BYTES",
            description = "Bytes per write (default ${DEFAULT-VALUE}).")
    private int chunk;

    @Mixin
    private BenchOptions.Runs runs = new BenchOptions.Runs(5);

    @Mixin
    private BenchOptions.Threads threads = new BenchOptions.Threads();

    @Option(names = "--timeout", defaultValue = "60", paramLabel = "S",
            description = "Seconds one transfer may take before the benchmark gives up (default ${DEFAULT-VALUE}).")
    private int timeoutSeconds;

    /** One run's MB/s. */
    private record Run(double directRx, double relayedRx, double directTx, double relayedTx) {
        double rxRatio() {
            return relayedRx / directRx;
        }

        double txRatio() {
            return relayedTx / directTx;
        }
    }

    @Override
    public Integer call() throws Exception {
        validate();
        String socat = PtyPair.socatVersion().orElse(null);
        if (socat == null) {
            throw new IOException("bench relay needs socat, which is not installed or cannot be run: install it"
                    + " (apt-get install socat, dnf install socat, brew install socat) and run again");
        }
        if (!Epoll.isAvailable()) {
            throw new IOException("bench relay needs Netty's native epoll (Linux) for its Unix socket: "
                    + Epoll.unavailabilityCause());
        }
        int threads = this.threads.threads();
        PrintWriter out = spec.commandLine().getOut();
        byte[] data = new byte[size];
        new Random(42).nextBytes(data);
        Duration timeout = Duration.ofSeconds(timeoutSeconds);
        Path dir = Files.createTempDirectory("mancom-bench-relay");
        EventLoopGroup daemonLoops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoopGroup processLoops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        try (PtyPair pty = PtyPair.start(dir)) {
            SerialBenchCommand.Ways direct = new SerialBenchCommand.Ways(pty, data, chunk, threads, timeout);
            Relayed relayed = new Relayed(pty, dir, data, chunk, threads, timeout, daemonLoops, processLoops);
            direct.check();
            relayed.check();
            out.println("ManCom relay benchmark (socat pty pair, one direction at a time)");
            out.printf(Locale.ROOT, "  load      %s per transfer in %s writes; %s%n", Stats.bytes(size), Stats.bytes(chunk), socat);
            out.printf(Locale.ROOT, "  threads   %d event-loop thread%s in each runtime; %s%n", threads, threads == 1 ? "" : "s",
                    BenchKit.javaAndCpus());
            out.println("  columns   direct = a ManCom service on the pty; relayed = a RelayOwner on the pty, the bytes"
                    + " carried as a mux stream over a Unix socket to a process; the other end plain streams");
            out.println();
            out.flush();
            Table table = new Table("  ", "run", "direct rx MB/s>", "relayed rx MB/s>", "direct tx MB/s>",
                    "relayed tx MB/s>", "rx relayed/direct>", "tx relayed/direct>").minWidth(0, "median".length());
            List<String> printed = new ArrayList<>();
            List<Run> results = new ArrayList<>();
            for (int r = 1; r <= runs.runs(); r++) {
                Run run;
                // Alternate which of a pair goes first, so neither always runs on a warmer machine.
                if (r % 2 == 1) {
                    double drx = direct.rx();
                    double rrx = relayed.rx();
                    double dtx = direct.tx();
                    run = new Run(drx, rrx, dtx, relayed.tx());
                } else {
                    double rrx = relayed.rx();
                    double drx = direct.rx();
                    double rtx = relayed.tx();
                    run = new Run(drx, rrx, direct.tx(), rtx);
                }
                results.add(run);
                table.row(Integer.toString(r), BenchKit.mb(run.directRx), BenchKit.mb(run.relayedRx),
                        BenchKit.mb(run.directTx), BenchKit.mb(run.relayedTx),
                        BenchKit.ratio(run.rxRatio()), BenchKit.ratio(run.txRatio()));
                BenchKit.printNewLines(out, table, printed);
            }
            double rxRatio = Stats.median(results.stream().mapToDouble(Run::rxRatio).toArray());
            double txRatio = Stats.median(results.stream().mapToDouble(Run::txRatio).toArray());
            table.row("median", BenchKit.mb(Stats.median(results.stream().mapToDouble(Run::directRx).toArray())),
                    BenchKit.mb(Stats.median(results.stream().mapToDouble(Run::relayedRx).toArray())),
                    BenchKit.mb(Stats.median(results.stream().mapToDouble(Run::directTx).toArray())),
                    BenchKit.mb(Stats.median(results.stream().mapToDouble(Run::relayedTx).toArray())),
                    BenchKit.ratio(rxRatio), BenchKit.ratio(txRatio));
            BenchKit.printNewLines(out, table, printed);
            out.println();
            out.printf(Locale.ROOT, "summary: through the relay, receiving %s of direct, sending %s (median of %d run%s;"
                    + " target 0.90)%n", BenchKit.ratio(rxRatio), BenchKit.ratio(txRatio), runs.runs(),
                    runs.runs() == 1 ? "" : "s");
            out.flush();
        } finally {
            daemonLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            processLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            deleteTree(dir);
        }
        return 0;
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
        if (timeoutSeconds < 1 || timeoutSeconds > 3600) {
            problems.add("--timeout must be from 1 to 3600: " + timeoutSeconds);
        }
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), String.join("; ", problems));
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder left behind is harmless
        }
    }

    /** The two relayed ways over one pty pair: a RelayOwner on end a, a process on a Unix socket. */
    private static final class Relayed {
        private final PtyPair pty;
        private final Path dir;
        private final byte[] data;
        private final int chunk;
        private final int threads;
        private final Duration timeout;
        private final EventLoopGroup daemonLoops;
        private final EventLoopGroup processLoops;
        private int sockets;

        Relayed(PtyPair pty, Path dir, byte[] data, int chunk, int threads, Duration timeout,
                EventLoopGroup daemonLoops, EventLoopGroup processLoops) {
            this.pty = pty;
            this.dir = dir;
            this.data = data;
            this.chunk = chunk;
            this.threads = threads;
            this.timeout = timeout;
            this.daemonLoops = daemonLoops;
            this.processLoops = processLoops;
        }

        /** Both directions once, comparing a digest of what arrived with what was sent (and warming up). */
        void check() throws Exception {
            if (!Arrays.equals(receive(true).digest, sha256(data))) {
                throw new IOException("the bytes the process received through the relay are not the bytes written;"
                        + " its figures would mean nothing");
            }
            SerialBenchCommand.Reader sink = new SerialBenchCommand.Reader(pty.b(), data.length, true);
            if (!Arrays.equals(sink.digest(send(sink)), sha256(data))) {
                throw new IOException("the bytes the process sent through the relay are not the bytes that arrived;"
                        + " its figures would mean nothing");
            }
        }

        double rx() throws Exception {
            return Stats.mbPerSecond(data.length, receive(false).nanos);
        }

        double tx() throws Exception {
            SerialBenchCommand.Reader reader = new SerialBenchCommand.Reader(pty.b(), data.length, false);
            long t0 = send(reader);
            return Stats.mbPerSecond(data.length, reader.await(timeout) - t0);
        }

        private record Received(long nanos, byte[] digest) {
        }

        private Received receive(boolean digest) throws Exception {
            SerialBenchCommand.stty(pty.b());
            StreamEnd end = new StreamEnd(data.length, digest ? sha256() : null);
            try (Setup s = new Setup(end)) {
                s.stream.get(READY.toSeconds(), TimeUnit.SECONDS);
                long t0 = System.nanoTime();
                try (FileOutputStream w = new FileOutputStream(pty.b().toFile())) {
                    for (int off = 0; off < data.length; off += chunk) {
                        w.write(data, off, Math.min(chunk, data.length - off));
                    }
                }
                long t1;
                try {
                    t1 = end.done.get(timeout.toSeconds(), TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new IOException("the process received " + end.got + " of " + data.length
                            + " bytes through the relay in " + timeout.toSeconds() + " s");
                }
                return new Received(t1 - t0, end.md != null ? end.md.digest() : null);
            }
        }

        /** The process writes {@code data} on its stream; returns when it started writing. */
        private long send(SerialBenchCommand.Reader reader) throws Exception {
            StreamEnd end = new StreamEnd(0, null);
            try (Setup s = new Setup(end)) {
                Channel stream = s.stream.get(READY.toSeconds(), TimeUnit.SECONDS);
                long t0 = System.nanoTime();
                stream.eventLoop().execute(() -> end.pump(stream, data, chunk));
                reader.await(timeout);
                return t0;
            }
        }

        /** A started RelayOwner on end a and one attached process, closed together. */
        private final class Setup implements AutoCloseable {
            final RelayOwner owner;
            final Channel process;
            final CompletableFuture<Channel> stream;

            Setup(StreamEnd end) throws Exception {
                stream = end.active;
                Path conf = dir.resolve("relay.conf");
                Files.writeString(conf, "mancom.services." + SERVICE + " { endpoint = \"serial://" + pty.a()
                        + "\", scope = system }\n");
                RuntimeSettings loaded = ConfigTools.loadFile(conf);
                owner = new RelayOwner(new ArrayList<>(loaded.services().values()), threads, loaded.layers(),
                        loaded.config());
                Channel client = null;
                try {
                    owner.start();
                    owner.awaitReady(READY);
                    client = attach(end);
                } finally {
                    if (client == null) {
                        owner.close();
                    }
                }
                process = client;
            }

            private Channel attach(StreamEnd end) throws Exception {
                Path path = dir.resolve("attach-" + sockets++ + ".sock");
                Peer peer = new Peer(ProcessHandle.current().pid(), 0, "bench", List.of(0), List.of("bench"));
                CompletableFuture<Void> attached = new CompletableFuture<>();
                Channel server = new ServerBootstrap().group(daemonLoops).channel(EpollServerDomainSocketChannel.class)
                        .childOption(ChannelOption.AUTO_READ, false)
                        .childHandler(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                ctx.pipeline().remove(this);
                                owner.attach(SERVICE, ctx.channel(), peer);
                                attached.complete(null);
                            }
                        })
                        .bind(new DomainSocketAddress(path.toFile())).sync().channel();
                try {
                    Channel c = new Bootstrap().group(processLoops).channel(EpollDomainSocketChannel.class)
                            .handler(new ChannelInitializer<>() {
                                @Override
                                protected void initChannel(Channel ch) {
                                    MuxSessionHandler.install(ch, MuxSettings.builder().enabled(true)
                                                    .routing(MuxSettings.Routing.NONE).role(MuxSettings.Role.RESPONDER)
                                                    .keepaliveInterval(Duration.ZERO).idleTimeout(Duration.ZERO).build(),
                                            MuxSettings.Role.RESPONDER, (st, name) -> {
                                                st.pipeline().addLast(end);
                                                return true;
                                            });
                                }
                            })
                            .connect(new DomainSocketAddress(path.toFile())).sync().channel();
                    attached.get(READY.toSeconds(), TimeUnit.SECONDS);
                    return c;
                } finally {
                    server.close().sync();
                }
            }

            @Override
            public void close() {
                try {
                    process.close().syncUninterruptibly();
                } finally {
                    owner.close();
                }
            }
        }
    }

    /** The process's end of the relayed stream: counts (and digests) what arrives, or writes while writable. */
    private static final class StreamEnd extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Long> done = new CompletableFuture<>();
        /** The stream, once it is active (registered on the process's loop). */
        final CompletableFuture<Channel> active = new CompletableFuture<>();
        final MessageDigest md;
        private final long total;
        volatile long got;
        private byte[] out;
        private int off;
        private int chunk;
        private Channel channel;

        StreamEnd(long total, MessageDigest md) {
            this.total = total;
            this.md = md;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            active.complete(ctx.channel());
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                ByteBuf b = (ByteBuf) msg;
                if (md != null) {
                    md.update(b.nioBuffer());
                }
                got += b.readableBytes();
                if (got >= total) {
                    done.complete(System.nanoTime());
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        /** Writes {@code data} in {@code chunk}s while the stream is writable. On the stream's loop. */
        void pump(Channel stream, byte[] data, int chunk) {
            this.channel = stream;
            this.out = data;
            this.chunk = chunk;
            this.off = 0;
            more();
        }

        private void more() {
            while (out != null && off < out.length && channel.isWritable()) {
                int n = Math.min(chunk, out.length - off);
                int at = off;
                off += n; // first: the write may call back into more() (writability changed)
                channel.writeAndFlush(Unpooled.wrappedBuffer(out, at, n));
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            more();
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IOException("the relayed stream closed after " + got + " bytes"));
            ctx.fireChannelInactive();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] sha256(byte[] b) {
        return sha256().digest(b);
    }
}
