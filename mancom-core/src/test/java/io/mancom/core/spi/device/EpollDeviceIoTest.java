package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.SerialAddress;
import io.mancom.testkit.Await;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.Socket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The epoll engine on a real epoll event loop, over a non-blocking Unix socket standing in for a
 * tty (both are descriptors epoll watches the same way): the loop reads and writes the descriptor
 * itself, and the link's blocking read and write are never called. The serial tests run the same
 * engine on ptys through jSerialComm.
 */
class EpollDeviceIoTest {
    private static final long T = 30;
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;
    private EventLoopGroup group;
    private final ExecutorService blocking = Executors.newCachedThreadPool();
    private final List<DeviceChannel> channels = new ArrayList<>();
    private ServerSocketChannel server;
    private SocketChannel peer;
    private SocketLink link;

    @BeforeEach
    void start() throws IOException {
        if ("true".equals(System.getenv("CI"))) {
            Epoll.ensureAvailability();
        }
        assumeTrue(Epoll.isAvailable(), "epoll is not available here: " + Epoll.unavailabilityCause());
        group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Path path = dir.resolve("device.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(path));
        Socket socket = Socket.newSocketDomain(); // non-blocking, as a tty opened for the loop is
        socket.connect(new DomainSocketAddress(path.toString()));
        peer = server.accept();
        link = new SocketLink(socket);
    }

    @AfterEach
    void tearDown() throws IOException {
        for (DeviceChannel ch : channels) {
            ch.close().awaitUninterruptibly();
        }
        if (peer != null) {
            peer.close();
            server.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
        blocking.shutdownNow();
    }

    /** The device end of the socket pair as a link that only offers its descriptor. */
    private static final class SocketLink implements DeviceLink {
        private final Socket socket;
        private final EndPoint endpoint = EndPoint.of(SerialAddress.of("/dev/socket-link"));
        final AtomicInteger blockingCalls = new AtomicInteger();
        final AtomicInteger closes = new AtomicInteger();

        SocketLink(Socket socket) {
            this.socket = socket;
        }

        @Override
        public int read(byte[] dst, int off, int len) {
            blockingCalls.incrementAndGet();
            throw new UnsupportedOperationException("the loop serves the descriptor: no blocking read");
        }

        @Override
        public void write(ByteBuffer src) {
            blockingCalls.incrementAndGet();
            throw new UnsupportedOperationException("the loop serves the descriptor: no blocking write");
        }

        @Override
        public int descriptor() {
            return socket.intValue();
        }

        @Override
        public void close() {
            closes.incrementAndGet();
            try {
                socket.close();
            } catch (IOException ignored) {
                // nothing a test could act on
            }
        }

        @Override
        public EndPoint local() {
            return endpoint;
        }

        @Override
        public EndPoint remote() {
            return endpoint;
        }
    }

    private DeviceChannel register(Recorder recorder, boolean autoRead) throws Exception {
        DeviceChannel ch = new DeviceChannel(link, blocking);
        channels.add(ch);
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(recorder);
        group.register(ch).sync();
        ch.config().setAutoRead(autoRead);
        return ch;
    }

    private static EpollDeviceIo epoll(DeviceChannel ch) {
        assertThat(ch.io()).isInstanceOf(EpollDeviceIo.class);
        return (EpollDeviceIo) ch.io();
    }

    private static <V> V onLoop(DeviceChannel ch, Callable<V> task) throws Exception {
        return ch.eventLoop().submit(task).get(T, TimeUnit.SECONDS);
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    @Test
    void echoesOnTheLoopWithoutAnyOtherThread() throws Exception {
        Recorder echo = new Recorder(false) {
            @Override
            void onBytes(ChannelHandlerContext ctx, ByteBuf b) {
                ctx.writeAndFlush(b.retainedDuplicate());
            }
        };
        DeviceChannel ch = register(echo, true);
        epoll(ch);
        byte[] hello = "hello over epoll".getBytes(StandardCharsets.US_ASCII);
        peer.write(ByteBuffer.wrap(hello));
        ByteBuffer back = ByteBuffer.allocate(hello.length);
        while (back.hasRemaining()) {
            assertThat(peer.read(back)).isPositive();
        }
        assertThat(back.array()).isEqualTo(hello);
        assertThat(link.blockingCalls).hasValue(0);
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith(ThreadedDeviceIo.READER_NAME));
    }

    @Test
    void sixteenMebibytesArriveByteExactFromTheDevice() throws Exception {
        Recorder in = new Recorder(false) {
            private final MessageDigest digest = MessageDigest.getInstance("SHA-256");

            @Override
            void onBytes(ChannelHandlerContext ctx, ByteBuf b) {
                digest.update(b.nioBuffer());
                if (bytes.get() + b.readableBytes() == 16 * MIB) {
                    ctx.channel().attr(DIGEST).set(digest.digest());
                }
            }
        };
        DeviceChannel ch = register(in, true);
        byte[] data = random(16 * MIB, 5);
        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
            try {
                peer.write(ByteBuffer.wrap(data));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        in.awaitBytes(data.length).get(T, TimeUnit.SECONDS);
        sent.get(T, TimeUnit.SECONDS);
        assertThat(in.bytes).hasValue(data.length);
        assertThat(ch.attr(DIGEST).get()).isEqualTo(sha256(data));
        assertThat(in.exceptions).isEmpty();
    }

    private static final io.netty.util.AttributeKey<byte[]> DIGEST = io.netty.util.AttributeKey.valueOf("test.digest");

    @Test
    void writesWaitForRoomWithEpolloutAndArriveByteExact() throws Exception {
        DeviceChannel ch = register(new Recorder(false), true);
        byte[] data = random(16 * MIB, 6);
        CompletableFuture<Void> written = new CompletableFuture<>();
        // Heap buffers, as an application writes them: the engine copies them to direct memory.
        ch.eventLoop().execute(() -> {
            for (int off = 0; off < data.length; off += 32 * 1024) {
                var f = ch.write(Unpooled.wrappedBuffer(data, off, 32 * 1024));
                if (off + 32 * 1024 == data.length) {
                    f.addListener(x -> {
                        if (x.isSuccess()) {
                            written.complete(null);
                        } else {
                            written.completeExceptionally(x.cause());
                        }
                    });
                }
            }
            ch.flush();
        });
        // The peer reads nothing yet: the socket fills, and the loop waits for room.
        EpollDeviceIo io = epoll(ch);
        Await.until("the loop to wait for EPOLLOUT", () -> {
            try {
                return onLoop(ch, () -> io.watching(EpollIoOps.EPOLLOUT));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(written).isNotDone();
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        long got = 0;
        while (got < data.length) {
            buf.clear();
            int n = peer.read(buf);
            assertThat(n).isPositive();
            digest.update(buf.flip());
            got += n;
        }
        assertThat(digest.digest()).isEqualTo(sha256(data));
        written.get(T, TimeUnit.SECONDS);
        assertThat(link.blockingCalls).hasValue(0);
    }

    @Test
    void whileThePipelineDoesNotReadNothingIsReadAndThePeerIsHeldBack() throws Exception {
        Recorder in = new Recorder(false);
        DeviceChannel ch = new DeviceChannel(link, blocking);
        channels.add(ch);
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
        ch.config().setAllocator(alloc);
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(in);
        group.register(ch).sync();
        EpollDeviceIo io = epoll(ch);
        assertThat(onLoop(ch, () -> io.watching(EpollIoOps.EPOLLIN))).isFalse();
        // The peer writes until the socket takes no more: held back, with nothing read on this side.
        peer.configureBlocking(false);
        ByteBuffer chunk = ByteBuffer.wrap(random(64 * 1024, 7));
        long sent = 0;
        for (int n; (n = peer.write(chunk.clear())) > 0; ) {
            sent += n;
        }
        assertThat(sent).isPositive().isLessThan(64L * MIB);
        assertThat(in.reads).hasValue(0);
        assertThat(alloc.metric().usedDirectMemory() + alloc.metric().usedHeapMemory()).isZero();

        ch.config().setAutoRead(true);
        in.awaitBytes(sent).get(T, TimeUnit.SECONDS);
        assertThat(in.bytes).hasValue(sent);
    }

    @Test
    void thePeerHangingUpClosesOnceWithTheLinksCause() throws Exception {
        Recorder in = new Recorder(true);
        DeviceChannel ch = register(in, true);
        peer.write(ByteBuffer.wrap("last".getBytes(StandardCharsets.US_ASCII)));
        in.awaitBytes(4).get(T, TimeUnit.SECONDS);
        peer.close();
        in.inactive.get(T, TimeUnit.SECONDS);
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThat(in.exceptions).hasSize(1);
        assertThat(in.exceptions.get(0)).isInstanceOf(ManComException.class).hasMessageContaining("hung up");
        assertThat(((ManComException) in.exceptions.get(0)).reason()).isEqualTo(ManComException.Reason.LINK_FAILED);
        assertThat(ch.closeCause()).isSameAs(in.exceptions.get(0));
        assertThat(in.inactiveEvents).hasValue(1);
        assertThat(link.closes).hasValue(1);
        assertThat(new String(in.data(), StandardCharsets.US_ASCII)).isEqualTo("last");
    }
}
