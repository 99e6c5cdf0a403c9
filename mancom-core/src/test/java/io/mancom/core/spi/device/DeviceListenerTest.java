package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.SerialAddress;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Opening, reporting, backing off and reopening, with scripted openers and with real ptys. */
class DeviceListenerTest {
    private static final Duration T = Duration.ofSeconds(30);
    private static final EndPoint EP = EndPoint.of(SerialAddress.of("/dev/ttyTEST0"));
    private static final ServiceSettings.Reconnect FAST = new ServiceSettings.Reconnect(true, Duration.ofMillis(20), Duration.ofMillis(200));

    @TempDir
    Path dir;
    private final TestRuntime runtime = new TestRuntime();
    private DeviceListener listener;
    private PtyPair pty;

    @AfterEach
    void tearDown() throws IOException {
        if (listener != null) {
            listener.close();
            listener.channel().ifPresent(ch -> ch.close().awaitUninterruptibly());
        }
        if (pty != null) {
            pty.close();
        }
        runtime.close();
    }

    private static ManComException noDevice() {
        return new ManComException(Reason.NO_DEVICE, "serial port /dev/ttyTEST0 does not exist");
    }

    /** An opener that fails with NO_DEVICE until allowed, then opens in-memory links. */
    private static final class Plug implements DeviceOpener {
        final AtomicBoolean plugged = new AtomicBoolean();
        final List<Long> attempts = new CopyOnWriteArrayList<>();
        final List<QueueLink> links = new CopyOnWriteArrayList<>();

        @Override
        public DeviceLink open(EndPoint endpoint) throws ManComException {
            attempts.add(System.nanoTime());
            if (!plugged.get()) {
                throw noDevice();
            }
            QueueLink l = new QueueLink();
            links.add(l);
            return l;
        }
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) {
        Await.until(what, T, condition);
    }

    @Test
    void readyWaitsForTheDeviceAndStatusSaysWhy() throws Exception {
        Plug plug = new Plug();
        TestSink sink = new TestSink(EP, FAST, () -> new Recorder(true));
        listener = DeviceListener.start(EP, plug, sink, runtime, DeviceChannel.Options.DEFAULT);
        await("a few attempts", () -> plug.attempts.size() >= 3);
        assertThat(listener.ready().toCompletableFuture()).isNotDone();
        assertThat(listener.status()).isEqualTo("device cannot be opened yet: serial port /dev/ttyTEST0 does not exist");
        assertThat(listener.lastFailure()).get().extracting(ManComException::reason).isEqualTo(Reason.NO_DEVICE);
        assertThat(listener.channel()).isEmpty();

        plug.plugged.set(true);
        assertThat(listener.ready().toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(EP);
        TestSink.Opened opened = sink.next(T);
        assertThat(listener.status()).isNull();
        assertThat(listener.lastFailure()).isEmpty();
        assertThat(listener.channel()).contains((DeviceChannel) opened.channel());
        assertThat(opened.channel().hasAttr(io.mancom.core.spi.ChannelSink.REMOTE_ENDPOINT)).isTrue();
    }

    @Test
    void backoffDoublesUpToTheMaximum() throws Exception {
        Plug plug = new Plug();
        ServiceSettings.Reconnect r = new ServiceSettings.Reconnect(true, Duration.ofMillis(40), Duration.ofMillis(160));
        listener = DeviceListener.start(EP, plug, new TestSink(EP, r, () -> new Recorder(true)), runtime, DeviceChannel.Options.DEFAULT);
        await("six attempts", () -> plug.attempts.size() >= 6);
        long[] expectedMillis = {40, 80, 160, 160, 160};
        for (int i = 0; i < expectedMillis.length; i++) {
            long gap = TimeUnit.NANOSECONDS.toMillis(plug.attempts.get(i + 1) - plug.attempts.get(i));
            // Timers may fire a little late, never early (beyond the clock's grain).
            assertThat(gap).as("wait before attempt %d", i + 2).isGreaterThanOrEqualTo(expectedMillis[i] - 2);
        }
    }

    @Test
    void withReconnectOffTheFirstFailureFailsReady() throws Exception {
        Plug plug = new Plug();
        ServiceSettings.Reconnect off = new ServiceSettings.Reconnect(false, Duration.ofMillis(20), Duration.ofMillis(200));
        listener = DeviceListener.start(EP, plug, new TestSink(EP, off, () -> new Recorder(true)), runtime, DeviceChannel.Options.DEFAULT);
        assertThatThrownBy(() -> listener.ready().toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ManComException.class).hasMessage("serial port /dev/ttyTEST0 does not exist");
        assertThat(plug.attempts).hasSize(1);
        assertThat(listener.status()).contains("not retrying");
    }

    @Test
    void aConfigFailureIsNotRetried() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        DeviceOpener bad = ep -> {
            attempts.incrementAndGet();
            throw new ManComException(Reason.CONFIG, "stopbits=1.5 needs databits=5 here");
        };
        listener = DeviceListener.start(EP, bad, new TestSink(EP, FAST, () -> new Recorder(true)), runtime, DeviceChannel.Options.DEFAULT);
        assertThatThrownBy(() -> listener.ready().toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS))
                .cause().hasMessage("stopbits=1.5 needs databits=5 here");
        assertThat(attempts).hasValue(1);
    }

    @Test
    void closeStopsTryingAndFailsReadyWithTheLastReason() throws Exception {
        Plug plug = new Plug();
        listener = DeviceListener.start(EP, plug, new TestSink(EP, FAST, () -> new Recorder(true)), runtime, DeviceChannel.Options.DEFAULT);
        await("an attempt", () -> plug.attempts.size() >= 1);
        await("the failure to be recorded", () -> listener.lastFailure().isPresent());
        listener.close();
        assertThatThrownBy(() -> listener.ready().toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS))
                .cause().isInstanceOf(ManComException.class)
                .hasMessageContaining("stopped before").hasMessageContaining("does not exist");
        int after = plug.attempts.size();
        // A negative check, bounded by events rather than a guessed sleep: a listener that is not
        // closed, with the same backoff, retries five times (20 + 40 + 80 + 160 + 200 ms of
        // waits, more than the 200 ms the closed one could have had scheduled).
        Plug witness = new Plug();
        try (DeviceListener control = DeviceListener.start(EP, witness, new TestSink(EP, FAST, () -> new Recorder(true)),
                runtime, DeviceChannel.Options.DEFAULT)) {
            await("the control listener to retry five times", () -> witness.attempts.size() >= 6);
        }
        // An attempt that was running when close came may still have opened once; none after it.
        assertThat(plug.attempts.size()).isLessThanOrEqualTo(after + 1);
        assertThat(listener.status()).isEqualTo("listener closed");
    }

    @Test
    void aLostDeviceIsReopenedAsANewChannel() throws Exception {
        Plug plug = new Plug();
        plug.plugged.set(true);
        TestSink sink = new TestSink(EP, FAST, () -> new Recorder(true));
        listener = DeviceListener.start(EP, plug, sink, runtime, DeviceChannel.Options.DEFAULT);
        TestSink.Opened first = sink.next(T);
        plug.links.get(0).fail(new IOException("/dev/ttyTEST0 unplugged"));
        first.recorder().inactive.get(T.toSeconds(), TimeUnit.SECONDS);
        TestSink.Opened second = sink.next(T);
        assertThat(second.channel()).isNotSameAs(first.channel());
        assertThat(first.recorder().exceptions).hasSize(1);
        assertThat(plug.links).hasSize(2);
        assertThat(plug.links.get(0).closes).hasValue(1);
        plug.links.get(1).offer("still here".getBytes(StandardCharsets.US_ASCII));
        second.recorder().awaitBytes(10).get(T.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void killingSocatAndStartingItAgainBringsTheServiceBack() throws Exception {
        PtyPair.require();
        pty = PtyPair.start(dir);
        EndPoint ep = EndPoint.of(SerialAddress.of(pty.a().toString()));
        TestSink sink = new TestSink(ep, FAST, () -> new Recorder(false) {
            @Override
            void onBytes(ChannelHandlerContext ctx, ByteBuf b) {
                ctx.writeAndFlush(b.retainedDuplicate()); // echo
            }
        });
        listener = DeviceListener.start(ep, PtyFileLink.opener(), sink, runtime, DeviceChannel.Options.DEFAULT);
        listener.ready().toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
        TestSink.Opened first = sink.next(T);
        assertThat(echo(pty.b(), "before")).isEqualTo("before");

        pty.kill();
        first.recorder().inactive.get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(first.recorder().exceptions).hasSize(1);
        assertThat(first.recorder().inactiveEvents).hasValue(1);
        await("the listener to notice the device is gone", () -> listener.status() != null);

        pty.restart();
        TestSink.Opened second = sink.next(T);
        assertThat(second.channel()).isNotSameAs(first.channel());
        assertThat(echo(pty.b(), "after")).isEqualTo("after");
        assertThat(first.recorder().exceptions).hasSize(1);
    }

    private static String echo(Path peerEnd, String text) throws Exception {
        PtyFileLink peer = new PtyFileLink(peerEnd);
        try {
            byte[] out = text.getBytes(StandardCharsets.US_ASCII);
            CompletableFuture<String> back = CompletableFuture.supplyAsync(() -> {
                byte[] in = new byte[out.length];
                int got = 0;
                try {
                    while (got < in.length) {
                        int n = peer.read(in, got, in.length - got);
                        if (n < 0) {
                            throw new IOException("end of stream");
                        }
                        got += n;
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return new String(in, StandardCharsets.US_ASCII);
            });
            peer.write(ByteBuffer.wrap(out));
            return back.get(T.toSeconds(), TimeUnit.SECONDS);
        } finally {
            peer.close();
        }
    }

    @Test
    void connectOpensOnceAndHandsTheChannelOver() throws Exception {
        Plug plug = new Plug();
        plug.plugged.set(true);
        TestSink sink = new TestSink(EP, FAST, () -> new Recorder(true));
        DeviceConnector.connect(EP, plug, sink, runtime, DeviceChannel.Options.DEFAULT, T).get(T.toSeconds(), TimeUnit.SECONDS);
        TestSink.Opened opened = sink.next(T);
        // A listener, which does reopen, loses its device at the same time: once it has reopened,
        // a client connection that was going to be reopened would have been too.
        Plug control = new Plug();
        control.plugged.set(true);
        TestSink controlSink = new TestSink(EP, FAST, () -> new Recorder(true));
        listener = DeviceListener.start(EP, control, controlSink, runtime, DeviceChannel.Options.DEFAULT);
        controlSink.next(T);
        plug.links.get(0).endOfStream();
        control.links.get(0).endOfStream();
        opened.recorder().inactive.get(T.toSeconds(), TimeUnit.SECONDS);
        TestSink.Opened reopened = controlSink.next(T);
        assertThat(control.attempts).hasSize(2);
        assertThat(plug.attempts).hasSize(1);
        listener.close();
        reopened.channel().close().sync(); // the listener may not have noted it as its channel yet
    }

    @Test
    void connectFailsWithTheOpenersReason() {
        Plug plug = new Plug();
        TestSink sink = new TestSink(EP, FAST, () -> new Recorder(true));
        assertThatThrownBy(() -> DeviceConnector.connect(EP, plug, sink, runtime, DeviceChannel.Options.DEFAULT, T)
                .get(T.toSeconds(), TimeUnit.SECONDS))
                .cause().isInstanceOf(ManComException.class).hasMessage("serial port /dev/ttyTEST0 does not exist");
    }

    @Test
    void connectTimesOutAndClosesADeviceThatOpensLate() throws Exception {
        CountDownLatch slow = new CountDownLatch(1);
        QueueLink link = new QueueLink();
        DeviceOpener opener = ep -> {
            try {
                slow.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return link;
        };
        TestSink sink = new TestSink(EP, FAST, () -> new Recorder(true));
        CompletableFuture<Void> f = DeviceConnector.connect(EP, opener, sink, runtime, DeviceChannel.Options.DEFAULT, Duration.ofMillis(100));
        assertThatThrownBy(() -> f.get(T.toSeconds(), TimeUnit.SECONDS))
                .cause().isInstanceOf(ManComException.class).hasMessageContaining("took longer than PT0.1S");
        assertThat(((ManComException) f.handle((v, t) -> t).get()).reason()).isEqualTo(Reason.TIMEOUT);
        slow.countDown();
        await("the late link to be closed", () -> link.closes.get() == 1);
        assertThat(sink.opened).isEmpty();
    }
}
