package io.mancom.core.spi.device;

import io.mancom.testkit.Await;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.WriteBufferWaterMark;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The threaded engine's writer and reader thread against an in-memory link: what
 * {@link DeviceChannelTest} does not see from the pipeline (how many batches are out, who holds
 * the device, which thread reads).
 */
class ThreadedDeviceIoTest {
    private static final long T = 30;
    private final TestRuntime runtime = new TestRuntime();
    private final List<DeviceChannel> channels = new ArrayList<>();

    @AfterEach
    void tearDown() {
        for (DeviceChannel ch : channels) {
            ch.close().awaitUninterruptibly();
        }
        runtime.close();
    }

    private DeviceChannel register(QueueLink link, DeviceChannel.Options options) throws Exception {
        DeviceChannel ch = new DeviceChannel(link, runtime.blockingExecutor(), options);
        channels.add(ch);
        ch.config().setAutoRead(false);
        ch.pipeline().addLast(new Recorder(true));
        runtime.group().register(ch).sync();
        return ch;
    }

    private static <V> V onLoop(DeviceChannel ch, java.util.concurrent.Callable<V> task) throws Exception {
        return ch.eventLoop().submit(task).get(T, TimeUnit.SECONDS);
    }

    private static byte[] numbered(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed * 31 + i);
        }
        return b;
    }

    @Test
    void atMostTwoBatchesAreOutWhileTheDeviceTakesNothingAndAllArriveInOrderAfter() throws Exception {
        QueueLink link = new QueueLink();
        DeviceChannel ch = register(link, new DeviceChannel.Options(16, 1, 1024));
        ThreadedDeviceIo io = (ThreadedDeviceIo) ch.io();
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(64 * 1024, 128 * 1024));
        link.holdWrites();
        java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
        List<ChannelFuture> writes = new ArrayList<>();
        onLoop(ch, () -> {
            for (int i = 0; i < 10; i++) {
                byte[] b = numbered(1024, i);
                expected.write(b);
                writes.add(ch.writeAndFlush(Unpooled.wrappedBuffer(b)));
            }
            return null;
        });
        Await.until("the writer to block in the device", () -> link.writesStarted.get() == 1);
        // One batch being written, the next one ready; the other eight wait in the outbound buffer.
        assertThat(onLoop(ch, io::batchesInFlight)).isEqualTo(ThreadedDeviceIo.MAX_BATCHES_IN_FLIGHT);
        assertThat(onLoop(ch, () -> ch.unsafe().outboundBuffer().size())).isEqualTo(10);
        assertThat(writes).noneMatch(ChannelFuture::isDone);

        link.openWrites();
        for (ChannelFuture w : writes) {
            assertThat(w.await(T, TimeUnit.SECONDS)).isTrue();
            assertThat(w.isSuccess()).isTrue();
        }
        assertThat(link.written()).isEqualTo(expected.toByteArray());
        assertThat(onLoop(ch, io::batchesInFlight)).isZero();
    }

    @Test
    void theDeviceIsReleasedOnlyOnceAWriterBlockedInItHasLeft() throws Exception {
        QueueLink link = new QueueLink();
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT);
        link.holdWrites();
        ChannelFuture w = ch.writeAndFlush(Unpooled.wrappedBuffer(numbered(100, 1)));
        Await.until("the writer to block in the device", () -> link.writesStarted.get() == 1);
        ch.close().sync();
        CompletableFuture<Void> released = ch.releaseFuture().toCompletableFuture();
        Await.until("the link to be closed", () -> link.closes.get() == 1);
        // The link is closed, but a writer is still inside it: reopening now would race with it.
        assertThat(released).isNotDone();
        link.openWrites();
        released.get(T, TimeUnit.SECONDS);
        assertThat(w.await(T, TimeUnit.SECONDS)).isTrue();
        assertThat(w.isSuccess()).isFalse(); // the channel closed before the device took it
    }

    @Test
    void theReaderThreadIsNamedForItsDeviceWhileItReads() throws Exception {
        QueueLink link = new QueueLink();
        DeviceChannel ch = register(link, DeviceChannel.Options.DEFAULT);
        String name = ThreadedDeviceIo.READER_NAME + " " + link.remote();
        Await.until("a thread named '" + name + "'", () -> readerThreads(name) == 1);
        ch.close().sync();
        ch.releaseFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        // The pool thread gets its own name back when the reader ends.
        Await.until("the reader's name to go", () -> readerThreads(name) == 0);
    }

    private static long readerThreads(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).count();
    }
}
