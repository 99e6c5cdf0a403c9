package io.mancom.core.spi.device;

import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The device channel over real pseudo-terminals (socat), with plain file I/O as the device link:
 * what the serial transport builds on, without jSerialComm.
 */
class DeviceChannelPtyTest {
    private static final long T = 30;
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;
    private PtyPair pty;
    private final TestRuntime runtime = new TestRuntime();
    private final List<DeviceChannel> channels = new ArrayList<>();
    private final List<PtyFileLink> peers = new ArrayList<>();

    @BeforeEach
    void startPty() throws IOException {
        PtyPair.require();
        pty = PtyPair.start(dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (DeviceChannel ch : channels) {
            ch.close().awaitUninterruptibly();
        }
        peers.forEach(PtyFileLink::close);
        if (pty != null) {
            pty.close();
        }
        runtime.close();
    }

    private DeviceChannel open(Path end, Recorder recorder, DeviceChannel.Options options, boolean autoRead) throws Exception {
        DeviceChannel ch = new DeviceChannel(new PtyFileLink(end), runtime.blockingExecutor(), options);
        channels.add(ch);
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(recorder);
        runtime.group().register(ch).sync();
        ch.config().setAutoRead(autoRead);
        return ch;
    }

    /** The test's own end of the line: plain blocking file I/O on the other pty. */
    private PtyFileLink peer(Path end) throws IOException {
        PtyFileLink p = new PtyFileLink(end);
        peers.add(p);
        return p;
    }

    private static CompletableFuture<byte[]> readExactly(PtyFileLink peer, int n, MessageDigest digest) {
        return CompletableFuture.supplyAsync(() -> {
            byte[] buf = new byte[64 * 1024];
            int got = 0;
            byte[] all = digest == null ? new byte[n] : null;
            try {
                while (got < n) {
                    int r = peer.read(buf, 0, Math.min(buf.length, n - got));
                    if (r < 0) {
                        throw new IOException("end of stream after " + got + " of " + n + " bytes");
                    }
                    if (digest != null) {
                        digest.update(buf, 0, r);
                    } else {
                        System.arraycopy(buf, 0, all, got, r);
                    }
                    got += r;
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return digest != null ? digest.digest() : all;
        });
    }

    private static CompletableFuture<Void> writeAll(PtyFileLink peer, byte[] data, AtomicLong progress) {
        return CompletableFuture.runAsync(() -> {
            try {
                for (int off = 0; off < data.length; off += 64 * 1024) {
                    int len = Math.min(64 * 1024, data.length - off);
                    peer.write(ByteBuffer.wrap(data, off, len));
                    if (progress != null) {
                        progress.addAndGet(len);
                    }
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    /** Counts and digests what arrives. */
    private static final class Digesting extends Recorder {
        private final MessageDigest digest;

        Digesting() throws Exception {
            super(false);
            digest = MessageDigest.getInstance("SHA-256");
        }

        @Override
        void onBytes(ChannelHandlerContext ctx, ByteBuf b) {
            digest.update(b.nioBuffer());
        }

        byte[] digest() {
            return digest.digest();
        }
    }

    @Test
    void echoRoundTrip() throws Exception {
        Recorder echo = new Recorder(false) {
            @Override
            void onBytes(ChannelHandlerContext ctx, ByteBuf b) {
                ctx.writeAndFlush(b.retainedDuplicate());
            }
        };
        open(pty.a(), echo, DeviceChannel.Options.DEFAULT, true);
        PtyFileLink peer = peer(pty.b());
        byte[] hello = "hello over a pty".getBytes(StandardCharsets.US_ASCII);
        CompletableFuture<byte[]> back = readExactly(peer, hello.length, null);
        peer.write(ByteBuffer.wrap(hello));
        assertThat(back.get(T, TimeUnit.SECONDS)).isEqualTo(hello);
    }

    @Test
    void sixteenMebibytesArriveByteExactFromTheDevice() throws Exception {
        Digesting in = new Digesting();
        open(pty.a(), in, DeviceChannel.Options.DEFAULT, true);
        byte[] data = random(16 * MIB, 16);
        CompletableFuture<Void> sent = writeAll(peer(pty.b()), data, null);
        in.awaitBytes(data.length).get(T, TimeUnit.SECONDS);
        sent.get(T, TimeUnit.SECONDS);
        assertThat(in.bytes).hasValue(data.length);
        assertThat(in.digest()).isEqualTo(sha256(data));
        assertThat(in.exceptions).isEmpty();
    }

    @Test
    void sixteenMebibytesArriveByteExactAtTheDevice() throws Exception {
        DeviceChannel ch = open(pty.a(), new Recorder(false), DeviceChannel.Options.DEFAULT, true);
        byte[] data = random(16 * MIB, 61);
        CompletableFuture<byte[]> got = readExactly(peer(pty.b()), data.length, MessageDigest.getInstance("SHA-256"));
        CompletableFuture<Void> written = new CompletableFuture<>();
        // Writes as an application would: in 32 KiB pieces, all queued at once, the last one's
        // promise telling when the device has taken everything.
        ch.eventLoop().execute(() -> {
            for (int off = 0; off < data.length; off += 32 * 1024) {
                boolean last = off + 32 * 1024 >= data.length;
                var f = ch.write(Unpooled.wrappedBuffer(data, off, Math.min(32 * 1024, data.length - off)));
                if (last) {
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
        assertThat(got.get(T, TimeUnit.SECONDS)).isEqualTo(sha256(data));
        written.get(T, TimeUnit.SECONDS);
    }

    @Test
    void aStalledReaderHoldsThePeerBackWithBoundedMemory() throws Exception {
        DeviceChannel.Options options = new DeviceChannel.Options(4096, 4, 64 * 1024);
        Digesting in = new Digesting();
        DeviceChannel ch = new DeviceChannel(new PtyFileLink(pty.a()), runtime.blockingExecutor(), options);
        channels.add(ch);
        // Its own allocator, whose metric counts exactly the buffers this channel allocates.
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
        ch.config().setAllocator(alloc);
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(in);
        runtime.group().register(ch).sync();

        byte[] data = random(8 * MIB, 8);
        AtomicLong sent = new AtomicLong();
        CompletableFuture<Void> writer = writeAll(peer(pty.b()), data, sent);

        // The reader fills its read-ahead and stops; the pty buffers fill; the writer blocks.
        ThreadedDeviceIo io = (ThreadedDeviceIo) ch.io();
        int[] maxInFlight = {0};
        Await.until("the reader to stop with its read-ahead full", Duration.ofSeconds(T), () -> {
            maxInFlight[0] = Math.max(maxInFlight[0], io.bytesInFlight());
            return io.readerWaiting();
        });
        assertThat(writer).as("the peer must be held back while nobody reads").isNotDone();
        assertThat(sent.get()).isLessThan(data.length);
        assertThat(io.bytesInFlight()).isEqualTo(options.readAhead());
        assertThat(maxInFlight[0]).isLessThanOrEqualTo(options.readAhead());
        // The read-ahead waits in the reader's fixed arrays: no buffer is allocated until it is read.
        assertThat(alloc.metric().usedHeapMemory() + alloc.metric().usedDirectMemory()).isZero();
        assertThat(in.reads).hasValue(0);

        ch.config().setAutoRead(true);
        in.awaitBytes(data.length).get(T, TimeUnit.SECONDS);
        writer.get(T, TimeUnit.SECONDS);
        assertThat(in.digest()).isEqualTo(sha256(data));
        assertThat(alloc.metric().usedHeapMemory() + alloc.metric().usedDirectMemory()).isZero();
    }

    @Test
    void killingSocatMidTransferClosesOnceWithACause() throws Exception {
        Recorder in = new Recorder(false);
        DeviceChannel ch = open(pty.a(), in, DeviceChannel.Options.DEFAULT, true);
        PtyFileLink peer = peer(pty.b());
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            byte[] chunk = random(64 * 1024, 3);
            try {
                while (true) {
                    peer.write(ByteBuffer.wrap(chunk));
                }
            } catch (IOException expected) {
                // the line went away under the writer too
            }
        });
        in.awaitBytes(MIB).get(T, TimeUnit.SECONDS);
        pty.kill();
        in.inactive.get(T, TimeUnit.SECONDS);
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        writer.get(T, TimeUnit.SECONDS);
        assertThat(in.inactiveEvents).hasValue(1);
        assertThat(in.exceptions).hasSize(1);
        assertThat(in.exceptions.get(0)).isInstanceOf(IOException.class);
        assertThat(ch.closeCause()).isSameAs(in.exceptions.get(0));
        assertThat(ch.isOpen()).isFalse();
    }
}
