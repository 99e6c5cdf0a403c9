package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.ModemStatus;
import io.mancom.SerialAddress;
import io.mancom.SerialLine;
import io.mancom.core.spi.device.DeviceChannel;
import io.mancom.core.spi.device.DeviceLink;
import io.mancom.spi.LineControl;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The runtime's side of {@link SerialLine} (closed checks, the modem-line listener polled on the
 * connection's loop, the break's timer), over a scripted driver: a pty has no modem lines, and this
 * machine no UART, so the lines' changes are played by the test as a driver would report them.
 * The real driver calls are tested on ptys in mancom-serial (SerialLineTest).
 */
class SerialLineControlTest {
    private static final long T = 30;
    private static final ModemStatus OFF = new ModemStatus(false, false, false, false);

    @TempDir
    Path tmp;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ExecutorService blocking = Executors.newCachedThreadPool();

    @AfterEach
    void tearDown() {
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        blocking.shutdownNow();
    }

    /** A device link with modem lines the test sets; reads find nothing, writes are dropped. */
    static final class ScriptedLine implements DeviceLink, LineControl {
        final EndPoint endpoint = EndPoint.of(SerialAddress.of("/dev/ttyScripted0"));
        volatile ModemStatus lines = OFF;
        final List<String> calls = new CopyOnWriteArrayList<>();
        final LinkedBlockingQueue<Boolean> breaksOnLoop = new LinkedBlockingQueue<>();
        volatile boolean closed;
        volatile Thread loopThread;

        @Override
        public int read(byte[] dst, int off, int len) throws java.io.IOException {
            if (closed) {
                return -1;
            }
            try {
                Thread.sleep(5); // a device read waits a little when nothing comes
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }

        @Override
        public void write(ByteBuffer src) {
            src.position(src.limit());
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public EndPoint local() {
            return endpoint;
        }

        @Override
        public EndPoint remote() {
            return endpoint;
        }

        @Override
        public SerialAddress settings() {
            return (SerialAddress) endpoint.address();
        }

        @Override
        public void setDtr(boolean on) {
            calls.add("dtr " + on);
        }

        @Override
        public void setRts(boolean on) {
            calls.add("rts " + on);
        }

        @Override
        public ModemStatus modemStatus() {
            return lines;
        }

        @Override
        public void checkModemLines() {
        }

        @Override
        public void setBreak(boolean on) {
            calls.add("break " + on);
            breaksOnLoop.add(Thread.currentThread() == loopThread);
        }

        @Override
        public void reconfigure(SerialAddress settings) throws ManComException {
            calls.add("reconfigure " + settings.baud() + " on loop: " + (Thread.currentThread() == loopThread));
        }
    }

    private ChannelConnection open(ScriptedLine link) throws Exception {
        DeviceChannel ch = new DeviceChannel(link, blocking);
        group.next().register(ch).sync();
        link.loopThread = ch.eventLoop().submit(Thread::currentThread).get(T, TimeUnit.SECONDS);
        var settings = FakeTransport.settings(tmp, "mancom.services.line.endpoint = \"serial:///dev/ttyScripted0\"").service("line");
        CompletableFuture<ChannelConnection> c = new CompletableFuture<>();
        ch.eventLoop().execute(() -> {
            ChannelConnection conn = new ChannelConnection(1, "line", ch, link.endpoint, link.endpoint, settings, new Inbound() {
                @Override
                public void opened(ChannelConnection connection) {
                }

                @Override
                public void data(ChannelConnection connection, ByteBuf data) {
                    data.release();
                }

                @Override
                public void inputShutdown(ChannelConnection connection) {
                }

                @Override
                public void closed(ChannelConnection connection, Throwable cause) {
                    connection.closeFutureInternal().complete(null); // as the callback API's inbound does
                }
            }, false);
            ch.pipeline().addLast(conn.handler);
            c.complete(conn);
        });
        return c.get(T, TimeUnit.SECONDS);
    }

    @Test
    void theListenerGetsEachChangeOnTheConnectionsLoop() throws Exception {
        ScriptedLine link = new ScriptedLine();
        ChannelConnection c = open(link);
        SerialLine line = c.serialLine();
        assertThat(c.serialLine()).isSameAs(line);
        LinkedBlockingQueue<String> seen = new LinkedBlockingQueue<>();
        line.setModemStatusListener((was, now) -> seen.add(was + " -> " + now + (Thread.currentThread() == link.loopThread ? " on loop" : " elsewhere")));
        // Setting the listener reads the lines on the loop (the state changes count from); once a
        // task queued after it has run, a change is one to report.
        c.channel().eventLoop().submit(() -> null).get(T, TimeUnit.SECONDS);
        link.lines = new ModemStatus(true, false, false, false);
        assertThat(seen.poll(T, TimeUnit.SECONDS)).isEqualTo("CTS=off DSR=off DCD=off RI=off -> CTS=on DSR=off DCD=off RI=off on loop");
        link.lines = new ModemStatus(true, true, true, false);
        assertThat(seen.poll(T, TimeUnit.SECONDS)).isEqualTo("CTS=on DSR=off DCD=off RI=off -> CTS=on DSR=on DCD=on RI=off on loop");
        assertThat(line.modemStatus()).isEqualTo(new ModemStatus(true, true, true, false));
        line.setDtr(false);
        line.setRts(true);
        assertThat(link.calls).containsExactly("dtr false", "rts true");
        c.close();
        c.closeFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThatThrownBy(line::modemStatus).isInstanceOf(ManComException.class)
                .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.CLOSED));
    }

    @Test
    void aBreakIsEndedByATimerOnTheLoopAndReconfigureRunsOffIt() throws Exception {
        ScriptedLine link = new ScriptedLine();
        ChannelConnection c = open(link);
        SerialLine line = c.serialLine();
        long t0 = System.nanoTime();
        line.sendBreak(Duration.ofMillis(200)).toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        assertThat(link.breaksOnLoop.poll()).isFalse(); // started on the caller's thread
        assertThat(link.breaksOnLoop.poll()).isTrue();  // ended by the loop's timer
        line.reconfigure(line.settings().withBaud(9600)).toCompletableFuture().get(T, TimeUnit.SECONDS);
        assertThat(link.calls).containsExactly("break true", "break false", "reconfigure 9600 on loop: false");
        c.close();
        c.closeFuture().toCompletableFuture().get(T, TimeUnit.SECONDS);
        CompletableFuture<Void> late = line.sendBreak(Duration.ofMillis(5)).toCompletableFuture();
        assertThatThrownBy(() -> late.get(T, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ManComException.class).hasMessageContaining("is closed");
    }
}
