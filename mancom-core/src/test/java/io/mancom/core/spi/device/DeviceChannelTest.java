package io.mancom.core.spi.device;

import io.mancom.ManComException;
import io.mancom.testkit.Await;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The channel's contract against a scripted in-memory device. */
class DeviceChannelTest {
    private static final long T = 10;
    private final TestRuntime runtime = new TestRuntime();
    private final List<DeviceChannel> channels = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        // An event loop does not close device channels when it shuts down: their readers would run on.
        for (DeviceChannel ch : channels) {
            ch.close().awaitUninterruptibly();
        }
        runtime.close();
    }

    private DeviceChannel register(DeviceLink link, DeviceChannel.Options options, Recorder recorder, boolean autoRead)
            throws Exception {
        DeviceChannel ch = new DeviceChannel(link, runtime.blockingExecutor(), options);
        channels.add(ch);
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(recorder);
        runtime.group().register(ch).sync();
        ch.config().setAutoRead(autoRead);
        return ch;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static void await(String what, BooleanSupplier condition) {
        Await.until(what, Duration.ofSeconds(T), condition);
    }

    /** The channel's engine, which a link without a descriptor must get. */
    private static ThreadedDeviceIo threads(DeviceChannel ch) {
        assertThat(ch.io()).isInstanceOf(ThreadedDeviceIo.class);
        return (ThreadedDeviceIo) ch.io();
    }

    @Test
    void deliversChunksInOrderAndWritesBack() throws Exception {
        QueueLink link = new QueueLink();
        Recorder echo = new Recorder(true) {
            @Override
            void onBytes(ChannelHandlerContext ctx, ByteBuf b) {
                ctx.writeAndFlush(b.retainedDuplicate());
            }
        };
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT, echo, true);
        link.offer(bytes("hello, "));
        link.offer(bytes("device "));
        link.offer(bytes("channel"));
        echo.awaitBytes(21).get(T, TimeUnit.SECONDS);
        await("echo written", () -> link.written().length == 21);
        assertThat(new String(echo.data(), StandardCharsets.US_ASCII)).isEqualTo("hello, device channel");
        assertThat(new String(link.written(), StandardCharsets.US_ASCII)).isEqualTo("hello, device channel");
        assertThat(ch.localAddress().endpoint()).isEqualTo(link.local());
        ch.close().sync();
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThat(link.closes).hasValue(1);
        assertThat(echo.exceptions).isEmpty();
        assertThat(ch.closeCause()).isNull();
    }

    @Test
    void withAutoReadOffEachReadDeliversOneBufferOfWhatWasReadAhead() throws Exception {
        QueueLink link = new QueueLink();
        Recorder r = new Recorder(true);
        DeviceChannel ch = register(link, new DeviceChannel.Options(4, 4, 1024), r, false);
        link.offer(bytes("one"));
        await("one read ahead", () -> threads(ch).bytesInFlight() == 3);
        link.offer(bytes("two"));
        link.offer(bytes("six"));
        await("all read ahead", () -> threads(ch).bytesInFlight() == 9);
        assertThat(r.reads).hasValue(0);
        ch.read();
        await("first buffer and its read-complete", () -> r.readCompletes.get() == 1);
        // At most readChunk (4) bytes per buffer, across what several device reads brought.
        assertThat(r.reads).hasValue(1);
        assertThat(new String(r.data(), StandardCharsets.US_ASCII)).isEqualTo("onet");
        ch.read();
        await("second buffer", () -> r.reads.get() == 2);
        assertThat(new String(r.data(), StandardCharsets.US_ASCII)).isEqualTo("onetwosi");
        ch.close().sync();
        // The rest was never asked for: dropped with the channel, no buffer was made for it.
        assertThat(r.reads).hasValue(2);
    }

    @Test
    void readAheadIsBoundedInBytesWhileThePipelineDoesNotRead() throws Exception {
        QueueLink link = new QueueLink();
        Recorder r = new Recorder(true);
        DeviceChannel.Options options = new DeviceChannel.Options(16, 2, 1024);
        assertThat(options.readAhead()).isEqualTo(32);
        DeviceChannel ch = register(link, options, r, false);
        for (int i = 0; i < 10; i++) {
            link.offer(bytes("chunk" + i)); // 6 bytes each: the ring's end splits one of them
        }
        await("32 bytes read ahead", () -> threads(ch).bytesInFlight() == 32);
        // The reader now waits for space: nothing more leaves the device until the loop consumes.
        await("the reader to wait for space", () -> threads(ch).readerWaiting());
        int reads = link.reads.get();
        assertThat(threads(ch).readerWaiting()).isTrue();
        assertThat(link.reads).hasValue(reads);
        assertThat(threads(ch).bytesInFlight()).isEqualTo(32);
        ch.read();
        await("one buffer (a chunk) delivered", () -> r.reads.get() == 1);
        assertThat(r.data()).hasSize(16);
        await("more read once it was delivered", () -> link.reads.get() > reads);
        ch.config().setAutoRead(true);
        r.awaitBytes(60).get(T, TimeUnit.SECONDS);
        assertThat(new String(r.data(), StandardCharsets.US_ASCII))
                .isEqualTo("chunk0chunk1chunk2chunk3chunk4chunk5chunk6chunk7chunk8chunk9");
        ch.close().sync();
    }

    @Test
    void aReaderFasterThanTheLoopGoesOnBeyondTheRingsEndByteExact() throws Exception {
        QueueLink link = new QueueLink();
        Recorder r = new Recorder(true);
        DeviceChannel ch = register(link, new DeviceChannel.Options(7, 3, 1024), r, true);
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            String s = "<" + i + ">";
            expected.append(s);
            link.offer(bytes(s));
        }
        r.awaitBytes(expected.length()).get(T, TimeUnit.SECONDS);
        assertThat(new String(r.data(), StandardCharsets.US_ASCII)).isEqualTo(expected.toString());
        assertThat(threads(ch).bytesInFlight()).isZero();
        ch.close().sync();
    }

    @Test
    void endOfStreamClosesOnceWithACauseAfterTheDataBeforeIt() throws Exception {
        QueueLink link = new QueueLink();
        Recorder r = new Recorder(true);
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT, r, true);
        link.offer(bytes("last words"));
        link.endOfStream();
        r.inactive.get(T, TimeUnit.SECONDS);
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThat(new String(r.data(), StandardCharsets.US_ASCII)).isEqualTo("last words");
        assertThat(r.exceptions).hasSize(1);
        assertThat(r.exceptions.get(0)).isInstanceOf(ManComException.class)
                .hasMessageContaining("end of stream");
        assertThat(((ManComException) r.exceptions.get(0)).reason()).isEqualTo(ManComException.Reason.LINK_FAILED);
        assertThat(ch.closeCause()).isSameAs(r.exceptions.get(0));
        assertThat(r.inactiveEvents).hasValue(1);
        assertThat(link.closes).hasValue(1);
    }

    @Test
    void readFailureClosesOnceWithTheLinksException() throws Exception {
        QueueLink link = new QueueLink();
        Recorder r = new Recorder(true);
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT, r, true);
        IOException unplugged = new IOException("/dev/queue-link was unplugged");
        link.fail(unplugged);
        r.inactive.get(T, TimeUnit.SECONDS);
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThat(r.exceptions).containsExactly(unplugged);
        assertThat(ch.closeCause()).isSameAs(unplugged);
        assertThat(link.closes).hasValue(1);
    }

    @Test
    void localCloseIsNotAFailure() throws Exception {
        QueueLink link = new QueueLink();
        Recorder r = new Recorder(true);
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT, r, true);
        ch.close().sync();
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        r.inactive.get(T, TimeUnit.SECONDS); // fired after the close promise completes
        assertThat(r.exceptions).isEmpty();
        assertThat(r.inactiveEvents).hasValue(1);
        assertThat(ch.closeCause()).isNull();
        assertThat(ch.isOpen()).isFalse();
        assertThat(link.closes).hasValue(1);
    }

    @Test
    void writeFailureFailsThePromiseAndClosesOnce() throws Exception {
        QueueLink link = new QueueLink();
        Recorder r = new Recorder(true);
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT, r, true);
        link.failWrites(new IOException("/dev/queue-link: write failed, device gone"));
        ChannelFuture w = ch.writeAndFlush(Unpooled.wrappedBuffer(bytes("lost")));
        assertThat(w.await(T, TimeUnit.SECONDS)).isTrue();
        assertThat(w.cause()).isInstanceOf(IOException.class).hasMessage("/dev/queue-link: write failed, device gone");
        r.inactive.get(T, TimeUnit.SECONDS);
        assertThat(r.exceptions).hasSize(1);
        assertThat(ch.closeCause()).isSameAs(w.cause());
    }

    @Test
    void writesAfterCloseFailAndReleaseTheirBuffers() throws Exception {
        QueueLink link = new QueueLink();
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT, new Recorder(true), true);
        ch.close().sync();
        ByteBuf buf = Unpooled.directBuffer().writeBytes(bytes("late"));
        ChannelFuture w = ch.writeAndFlush(buf);
        assertThat(w.await(T, TimeUnit.SECONDS)).isTrue();
        assertThat(w.isSuccess()).isFalse();
        assertThat(buf.refCnt()).isZero();
    }

    @Test
    void rejectsMessagesThatAreNotBuffers() throws Exception {
        QueueLink link = new QueueLink();
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT, new Recorder(true), true);
        ChannelFuture w = ch.writeAndFlush("a string");
        assertThat(w.await(T, TimeUnit.SECONDS)).isTrue();
        assertThat(w.cause()).isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("String");
        ch.close().sync();
    }

    @Test
    void aLinkWithADescriptorNeedsAnEpollLoop() throws Exception {
        QueueLink link = new QueueLink() {
            @Override
            public int descriptor() {
                return Integer.MAX_VALUE; // never watched: the registration fails first
            }
        };
        DeviceChannel ch = new DeviceChannel(link, runtime.blockingExecutor());
        channels.add(ch);
        assertThat(ch.io()).isInstanceOf(EpollDeviceIo.class);
        ChannelFuture registered = runtime.group().register(ch).await();
        assertThat(registered.cause()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("offers a file descriptor, which needs an epoll event loop");
        // A failed registration closes the channel, and so the link it owns.
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThat(link.closes).hasValue(1);
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> new DeviceChannel.Options(0, 1, 1)).hasMessage("readChunk < 1: 0");
        assertThatThrownBy(() -> new DeviceChannel.Options(1, 0, 1)).hasMessage("readsInFlight < 1: 0");
        assertThatThrownBy(() -> new DeviceChannel.Options(1, 1, -5)).hasMessage("writeBatch < 1: -5");
        assertThatThrownBy(() -> new DeviceChannel.Options(1 << 20, 1 << 12, 1)).hasMessageContaining("read-ahead");
    }

    @Test
    void closeWakesAReaderThatWaitsForSpace() throws Exception {
        QueueLink link = new QueueLink();
        DeviceChannel ch = register(link, new DeviceChannel.Options(16, 1, 1024), new Recorder(true), false);
        link.offer(bytes("sixteen bytes!!!"));
        link.offer(bytes("b"));
        await("the read-ahead is full", () -> threads(ch).bytesInFlight() == 16);
        CompletableFuture<Void> released = ch.releaseFuture().toCompletableFuture();
        assertThat(released).isNotDone();
        ch.close().sync();
        released.get(T, TimeUnit.SECONDS);
    }

    @Test
    void writesCompleteWhenTheDeviceTookThemAndWritabilityFollows() throws Exception {
        QueueLink link = new QueueLink();
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT, new Recorder(true), true);
        ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(8 * 1024, 16 * 1024));
        link.holdWrites();
        List<ChannelFuture> writes = new ArrayList<>();
        CompletableFuture<Void> queued = new CompletableFuture<>();
        ch.eventLoop().execute(() -> {
            for (int i = 0; i < 8; i++) {
                writes.add(ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[4096])));
            }
            queued.complete(null);
        });
        queued.get(T, TimeUnit.SECONDS);
        // The device has taken nothing: nothing is complete, and 32 KiB queued is over the 16 KiB mark.
        assertThat(writes).noneMatch(ChannelFuture::isDone);
        assertThat(ch.isWritable()).isFalse();
        link.openWrites();
        for (ChannelFuture w : writes) {
            assertThat(w.await(T, TimeUnit.SECONDS)).isTrue();
            assertThat(w.isSuccess()).isTrue();
        }
        await("writable again", ch::isWritable);
        assertThat(link.written()).hasSize(8 * 4096);
        ch.close().sync();
    }

    @Test
    void batchesPipelinedWithWritesFromTheWritabilityCallbackArriveExactlyOnceInOrder() throws Exception {
        QueueLink link = new QueueLink();
        DeviceChannel ch = register(link, new DeviceChannel.Options(16, 1, 1500), new Recorder(true) {
            @Override
            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                pump(ctx.channel());
            }
        }, true);
        // Batches of min(1500, 4096 / 2) bytes, over messages of 700: batches end inside messages.
        ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(4096, 8192));
        CompletableFuture<Void> started = new CompletableFuture<>();
        ch.eventLoop().execute(() -> {
            pump(ch);
            started.complete(null);
        });
        started.get(T, TimeUnit.SECONDS);
        byte[] expected = expectedPumped();
        await("everything written", () -> link.written().length >= expected.length);
        assertThat(link.written()).isEqualTo(expected);
        ch.close().sync();
    }

    private static final int PUMP_MESSAGES = 2000;
    private static final int PUMP_SIZE = 700;
    private int pumped;

    /** Writes numbered messages while the channel is writable, as an application does from its writability callback. */
    private void pump(io.netty.channel.Channel ch) {
        while (pumped < PUMP_MESSAGES && ch.isWritable()) {
            ByteBuf b = Unpooled.buffer(PUMP_SIZE);
            for (int i = 0; i < PUMP_SIZE; i++) {
                b.writeByte(pumped * 31 + i);
            }
            pumped++;
            ch.writeAndFlush(b);
        }
    }

    private static byte[] expectedPumped() {
        byte[] all = new byte[PUMP_MESSAGES * PUMP_SIZE];
        for (int m = 0; m < PUMP_MESSAGES; m++) {
            for (int i = 0; i < PUMP_SIZE; i++) {
                all[m * PUMP_SIZE + i] = (byte) (m * 31 + i);
            }
        }
        return all;
    }

    @Test
    void aFailureTheLinkReportsClosesAPausedChannelAtOnce() throws Exception {
        QueueLink link = new QueueLink();
        Recorder r = new Recorder(true);
        DeviceChannel ch = register(link, new DeviceChannel.Options(16, 1, 1024), r, false);
        link.offer(bytes("unread"));
        await("the reader read it", () -> link.reads.get() == 1);
        IOException gone = new IOException("/dev/queue-link was disconnected");
        link.reportFailure(gone);
        r.inactive.get(T, TimeUnit.SECONDS);
        assertThat(r.exceptions).containsExactly(gone);
        assertThat(ch.closeCause()).isSameAs(gone);
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThat(r.reads).hasValue(0);
    }
}
