package io.mancom.core.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.epoll.Epoll;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link BlockingWriter} over a real epoll loopback socket, where it writes the socket from the
 * caller's thread ({@link DirectSocketWriter}): without a loop task when nothing is queued, through
 * the loop for what the socket does not take, in order either way, and never once the channel is
 * closing.
 */
class DirectSocketWriterTest {
    private EventLoops loops;
    private Channel server;
    private final AtomicInteger drains = new AtomicInteger();
    private volatile Channel child;

    @BeforeEach
    void start() {
        if ("true".equals(System.getenv("CI"))) {
            Epoll.ensureAvailability();
        }
        assumeTrue(Epoll.isAvailable(), "epoll is not available here: " + Epoll.unavailabilityCause());
        loops = new EventLoops(1);
        assumeTrue(loops.isNative(), "-Dmancom.native=false: the runtime uses NIO");
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close().syncUninterruptibly();
        }
        if (loops != null) {
            loops.shutdown();
        }
    }

    /** A server whose accepted channel gets a writer, made on its loop; {@code outbound} adds an outbound handler. */
    private CompletableFuture<BlockingWriter> serve(boolean outbound, Integer sendBuffer) throws InterruptedException {
        CompletableFuture<BlockingWriter> made = new CompletableFuture<>();
        ServerBootstrap b = new ServerBootstrap().group(loops.group()).channel(loops.serverSocketChannelType())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (outbound) {
                            ch.pipeline().addLast(new ChannelOutboundHandlerAdapter());
                        }
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                child = ctx.channel();
                                made.complete(new BlockingWriter(ctx.channel(), drains::incrementAndGet));
                                ctx.fireChannelActive();
                            }

                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg);
                            }
                        });
                    }
                });
        if (sendBuffer != null) {
            b.childOption(ChannelOption.SO_SNDBUF, sendBuffer);
        }
        server = b.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        return made;
    }

    private Socket connect() throws Exception {
        InetSocketAddress at = (InetSocketAddress) server.localAddress();
        Socket s = new Socket(at.getAddress(), at.getPort());
        s.setSoTimeout(10_000);
        return s;
    }

    private static byte[] readFully(InputStream in, int n) throws Exception {
        byte[] got = new byte[n];
        int off = 0;
        while (off < n) {
            int k = in.read(got, off, n - off);
            if (k < 0) {
                break;
            }
            off += k;
        }
        return Arrays.copyOf(got, off);
    }

    @Test
    void aWriteWithNothingQueuedGoesToTheSocketWithoutALoopTask() throws Exception {
        CompletableFuture<BlockingWriter> made = serve(false, null);
        try (Socket client = connect()) {
            BlockingWriter w = made.get(10, TimeUnit.SECONDS);
            assertThat(w.writesDirectly()).as("a plain epoll socket").isTrue();

            assertThat(w.write(ByteBuffer.wrap("hello".getBytes()))).isTrue();

            assertThat(new String(readFully(client.getInputStream(), 5))).isEqualTo("hello");
            assertThat(drains.get()).as("no drain task: the caller's thread wrote the socket").isZero();
        }
    }

    @Test
    void whatTheSocketDoesNotTakeGoesThroughTheLoopAndAllArrivesInOrder() throws Exception {
        CompletableFuture<BlockingWriter> made = serve(false, 16 << 10);
        byte[] data = new byte[8 << 20];
        new Random(5).nextBytes(data);
        try (Socket client = connect()) {
            client.setReceiveBufferSize(16 << 10);
            BlockingWriter w = made.get(10, TimeUnit.SECONDS);
            // The first writes fill the socket (the client reads nothing yet), the rest queue; the
            // client then reads while the last ones are written, which may go direct again.
            int half = data.length / 2;
            for (int off = 0; off < half; off += BlockingWriter.CHUNK) {
                assertThat(w.write(ByteBuffer.wrap(data, off, BlockingWriter.CHUNK))).isTrue();
            }
            CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return readFully(client.getInputStream(), data.length);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            for (int off = half; off < data.length; off += BlockingWriter.CHUNK) {
                assertThat(w.write(ByteBuffer.wrap(data, off, BlockingWriter.CHUNK))).isTrue();
            }
            byte[] got = read.get(30, TimeUnit.SECONDS);

            assertThat(got.length).isEqualTo(data.length);
            assertThat(Arrays.equals(got, data)).as("byte-exact, in order").isTrue();
            assertThat(drains.get()).as("a full socket sends the rest through the loop").isPositive();
        }
    }

    @Test
    void anOutboundHandlerInThePipelineKeepsEveryWriteOnTheLoop() throws Exception {
        CompletableFuture<BlockingWriter> made = serve(true, null);
        try (Socket client = connect()) {
            BlockingWriter w = made.get(10, TimeUnit.SECONDS);
            assertThat(w.writesDirectly()).as("a handler may change the bytes (TLS, framing)").isFalse();

            w.write(ByteBuffer.wrap("abc".getBytes()));

            assertThat(new String(readFully(client.getInputStream(), 3))).isEqualTo("abc");
            child.eventLoop().submit(() -> { }).sync(); // the drain counts itself after its flush
            assertThat(drains.get()).isEqualTo(1);
        }
    }

    @Test
    void onceTheChannelClosesNoWriteReachesItsDescriptor() throws Exception {
        CompletableFuture<BlockingWriter> made = serve(false, null);
        try (Socket client = connect()) {
            BlockingWriter w = made.get(10, TimeUnit.SECONDS);
            assertThat(w.writesDirectly()).isTrue();

            child.close().sync();

            assertThat(w.writesDirectly()).as("the close stopped direct writes before close(2)").isFalse();
            // A later write goes to the loop, which fails it on the closed channel (and releases it).
            assertThat(w.write(ByteBuffer.wrap("late".getBytes()))).isTrue();
            child.eventLoop().submit(() -> { }).sync();
            assertThat(readFully(client.getInputStream(), 4)).as("nothing after the close").isEmpty();
        }
    }
}
