package io.mancom.cli.bench;

import io.mancom.cli.internal.Stats;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * The one client that drives every server: plain Netty, a fixed number of connections, each
 * keeping a fixed window of bytes in flight. A connection writes {@code size}-byte messages until
 * {@code window} bytes are unanswered, and writes again as echoed bytes come back, so each server
 * is offered the same load and the only thing that differs between measurements is the server.
 *
 * <h2>Buffers</h2>
 * Every write is a retained duplicate of one read-only payload buffer, so sending allocates and
 * copies nothing; the writer's reference is released by Netty once sent. Echoed buffers are
 * counted and released at once. The payload itself is released by {@link #close()}.
 *
 * <p>Not thread-safe: one measurement at a time.
 */
final class LoadGenerator implements AutoCloseable {
    /** How long nothing may come back, after a measured interval that saw nothing, before it is a stall. */
    private static final Duration STALL = Duration.ofSeconds(30);

    private final EventLoopGroup group;
    private final boolean epoll;
    private final int connections;
    private final int size;
    private final int window;
    private final ByteBuf payload;

    /**
     * The bytes echoed during one measurement; {@code nanos} is the measured interval;
     * {@code serverCpuNanos} the CPU time the ManCom runtimes' event loops ({@code mancom-io}
     * threads) used in it, which is the measured server's alone while the other servers are idle;
     * {@code serverThreadsCpuNanos} the CPU time of every thread of this process but the load
     * generator's (event loops and application threads alike: the whole server, whatever its threads
     * are called).
     */
    record Measurement(long bytes, long nanos, long serverCpuNanos, long serverAllocatedBytes, long serverThreadsCpuNanos) {
        double mbPerSecond() {
            return Stats.mbPerSecond(bytes, nanos);
        }

        /** Server CPU microseconds per MB (10^6 bytes) echoed. */
        double serverCpuMicrosPerMb() {
            return serverCpuNanos / 1e3 / (bytes / 1e6);
        }

        /** CPU microseconds of all the server's threads per MB (10^6 bytes) echoed. */
        double serverThreadsCpuMicrosPerMb() {
            return serverThreadsCpuNanos / 1e3 / (bytes / 1e6);
        }

        /** Bytes of heap the server's event loops allocated per MB (10^6 bytes) echoed. */
        double serverAllocatedPerMb() {
            return serverAllocatedBytes / (bytes / 1e6);
        }
    }

    /**
     * The CPU time used so far by the live threads whose name starts with {@code mancom-io} (the
     * ManCom runtimes' event loops). CPU time, unlike throughput, hardly depends on how busy the
     * machine is: it is the cost of the work, not how soon the scheduler let it run.
     */
    static long ioThreadsCpuNanos() {
        return cpuNanos(name -> name.startsWith(IO_THREADS));
    }

    /**
     * The CPU time used so far by every live thread but the load generator's: while one server is
     * measured and the others idle, that server's loops and application threads together.
     */
    static long serverThreadsCpuNanos() {
        return cpuNanos(name -> !name.startsWith(LOAD_THREADS));
    }

    private static long cpuNanos(Predicate<String> named) {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads(mx, named)) {
            sum += Math.max(0, mx.getThreadCpuTime(id));
        }
        return sum;
    }

    private static final String LOAD_THREADS = "bench-load";
    /** The ManCom runtimes' event loops. */
    private static final String IO_THREADS = "mancom-io";

    /**
     * The heap allocated so far by the same threads (HotSpot's per-thread count), or 0 where the
     * JVM does not count it. Allocation per byte does not depend on the machine's load at all.
     */
    static long ioThreadsAllocatedBytes() {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        if (!(mx instanceof com.sun.management.ThreadMXBean hotspot) || !hotspot.isThreadAllocatedMemoryEnabled()) {
            return 0;
        }
        long sum = 0;
        for (long id : threads(mx, name -> name.startsWith(IO_THREADS))) {
            sum += Math.max(0, hotspot.getThreadAllocatedBytes(id));
        }
        return sum;
    }

    /** The ids of the live threads whose name {@code named} accepts. */
    private static List<Long> threads(ThreadMXBean mx, Predicate<String> named) {
        List<Long> ids = new ArrayList<>();
        for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t != null && named.test(t.getThreadName())) {
                ids.add(t.getThreadId());
            }
        }
        return ids;
    }

    LoadGenerator(int threads, boolean epoll, int connections, int size, int window) {
        this.epoll = epoll;
        this.connections = connections;
        this.size = size;
        this.window = window;
        byte[] bytes = new byte[size];
        new Random(42).nextBytes(bytes);
        // Only ever read (through duplicates with their own indices), so every loop may share it.
        this.payload = Unpooled.directBuffer(size).writeBytes(bytes);
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(LOAD_THREADS, true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    /**
     * Opens the connections to {@code server}, lets them run for {@code warmupNanos}, counts the
     * echoed bytes over the next {@code measureNanos}, and closes the connections.
     *
     * @throws IOException if a connection fails or closes, or nothing was echoed
     */
    Measurement measure(String serverName, InetSocketAddress server, long warmupNanos, long measureNanos)
            throws IOException, InterruptedException {
        Run run = new Run();
        Bootstrap b = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Load(run));
                    }
                });
        List<Channel> channels = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                ChannelFuture connected = b.connect(server).awaitUninterruptibly();
                if (!connected.isSuccess()) {
                    throw new IOException("cannot connect to the " + serverName + " server at " + server + ": "
                            + connected.cause().getMessage(), connected.cause());
                }
                channels.add(connected.channel());
            }
            sleepNanos(warmupNanos);
            run.check(serverName);
            long cpu0 = ioThreadsCpuNanos();
            long alloc0 = ioThreadsAllocatedBytes();
            long all0 = serverThreadsCpuNanos();
            long c0 = run.echoed.sum();
            long t0 = System.nanoTime();
            sleepNanos(measureNanos);
            BenchKit.IntervalEnd end = BenchKit.endInterval(run.echoed::sum, c0, t0, STALL, "the " + serverName + " server echoed");
            long cpu1 = ioThreadsCpuNanos();
            long alloc1 = ioThreadsAllocatedBytes();
            long all1 = serverThreadsCpuNanos();
            run.check(serverName);
            return new Measurement(end.count() - c0, end.nanoTime() - t0, cpu1 - cpu0, alloc1 - alloc0, all1 - all0);
        } finally {
            run.stopping = true;
            for (Channel ch : channels) {
                ch.close();
            }
            for (Channel ch : channels) {
                ch.closeFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
    }

    private static void sleepNanos(long nanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(nanos);
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        payload.release();
    }

    /** The shared state of one measurement. */
    private static final class Run {
        final LongAdder echoed = new LongAdder();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile boolean stopping;

        void check(String serverName) throws IOException {
            Throwable t = failure.get();
            if (t != null) {
                throw new IOException("a connection to the " + serverName + " server failed: " + t.getMessage(), t);
            }
        }
    }

    /** One connection's load: keeps {@code window} bytes in flight. Used on its event loop only. */
    private final class Load extends ChannelInboundHandlerAdapter {
        private final Run run;
        private long inFlight;

        Load(Run run) {
            this.run = run;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            fill(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                int n = ((ByteBuf) msg).readableBytes();
                inFlight -= n;
                run.echoed.add(n);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            fill(ctx);
        }

        private void fill(ChannelHandlerContext ctx) {
            boolean wrote = false;
            while (inFlight + size <= window && !run.stopping) {
                ctx.write(payload.retainedDuplicate(), ctx.voidPromise());
                inFlight += size;
                wrote = true;
            }
            if (wrote) {
                ctx.flush();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!run.stopping) {
                run.failure.compareAndSet(null, new IOException("the server closed the connection"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!run.stopping) {
                run.failure.compareAndSet(null, cause);
            }
            ctx.close();
        }
    }
}
