package io.mancom.tcp;

import io.mancom.ChannelStatus;
import io.mancom.Connection;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.ServiceStatus;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.mancom.tcp.EventRecorder.next;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The monitoring hooks inside the runtime, over real loopback TCP: mux frames counted exactly on
 * both ends of a session, a stream's window stalls, a bind failure and a refused write
 * (WRITE_QUEUE_FULL) counted in the service's errors although they close nothing.
 */
class MonitoringHooksTest {
    private static final Duration T = Duration.ofSeconds(20);
    private final List<ManCom> runtimes = new ArrayList<>();
    @TempDir
    Path dir;

    @AfterEach
    void close() {
        runtimes.forEach(ManCom::close);
    }

    private ManCom start(String service, EventRecorder events) {
        ManCom m = TestManCom.builder("mancom.services.echo " + service + "\n"
                + "mancom.runtime-dir = \"" + dir + "\"").eventListener(events).start();
        runtimes.add(m);
        return m;
    }

    private static int port(ManCom server) {
        return ((TcpAddress) server.boundEndPoint("echo").orElseThrow().address()).port();
    }

    private static ChannelStatus session(EventRecorder events) throws InterruptedException {
        while (true) {
            EventRecorder.Closed c = next(events.closed, T);
            if (c.channel().kind() == ChannelStatus.Kind.MUX_SESSION) {
                return c.channel();
            }
        }
    }

    @Test
    void muxFramesSentOnOneEndAreTheFramesReceivedOnTheOther() throws Exception {
        EventRecorder serverEvents = new EventRecorder();
        EventRecorder clientEvents = new EventRecorder();
        ManCom server = start("{ endpoint = \"tcp://127.0.0.1:0\", mux = on }", serverEvents);
        AtomicLong received = new AtomicLong();
        // No echo: a callback echo of more than a window over one stream stalls today
        // (MonitoringCountersTest); the server still sends its Hello and WindowUpdates.
        server.registerDataReceiver("echo", (conn, data) -> received.addAndGet(data.remaining()));
        server.awaitReady(T);
        ManCom client = start("{ endpoint = \"tcp://127.0.0.1:" + port(server) + "\", mux = on }", clientEvents);
        int streams = 3;
        int bytes = 200_003; // past the first window: Data frames out, WindowUpdates back
        List<Connection> open = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            open.add(client.connectAsync("echo", (conn, data) -> { }).get(T.toSeconds(), TimeUnit.SECONDS));
        }
        byte[] chunk = new byte[10_000];
        for (Connection c : open) {
            for (int off = 0; off < bytes; off += chunk.length) {
                c.write(ByteBuffer.wrap(chunk, 0, Math.min(chunk.length, bytes - off)));
            }
        }
        MonitoringCountersTest.awaitTrue(() -> received.get() == (long) streams * bytes);
        ChannelStatus live = client.status().channels().stream()
                .filter(c -> c.kind() == ChannelStatus.Kind.MUX_SESSION).findFirst().orElseThrow();
        // Hello, OpenStream + preamble and at least ten Data frames per stream out (64 KiB each at most).
        assertThat(live.framesOut()).isGreaterThan(1 + streams * (2 + bytes / 65536));
        assertThat(live.framesIn()).as("Hello and WindowUpdates").isGreaterThan(streams);

        for (Connection c : open) {
            c.close();
            c.closeFuture().toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
        }
        client.close(); // CloseMux: both ends of the session close
        ChannelStatus clientSession = session(clientEvents);
        ChannelStatus serverSession = session(serverEvents);
        assertThat(clientSession.framesOut()).as("client out = server in").isEqualTo(serverSession.framesIn());
        assertThat(serverSession.framesOut()).as("server out = client in").isEqualTo(clientSession.framesIn());
        assertThat(clientSession.framesOut()).isGreaterThanOrEqualTo(live.framesOut());
    }

    @Test
    void aStreamThatUsesUpItsWindowCountsAStall() throws Exception {
        EventRecorder serverEvents = new EventRecorder();
        ManCom server = start("{ endpoint = \"tcp://127.0.0.1:0\", mux = on }", serverEvents);
        CompletableFuture<Connection> accepted = new CompletableFuture<>();
        AtomicLong received = new AtomicLong();
        server.registerAcceptor("echo", accepted::complete);
        server.registerDataReceiver("echo", (conn, data) -> received.addAndGet(data.remaining()));
        server.awaitReady(T);
        ManCom client = start("{ endpoint = \"tcp://127.0.0.1:" + port(server) + "\", mux = on }", new EventRecorder());
        Connection small = client.connectAsync("echo", (conn, data) -> { }).get(T.toSeconds(), TimeUnit.SECONDS);
        small.write(ByteBuffer.wrap(new byte[1000])).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(client.status().channel(small.id()).orElseThrow().windowStalls()).isZero();

        // 1 MiB in one write: over the first 64 KiB window, so the stream waits for WindowUpdates
        // at least once however fast the server reads.
        Connection big = client.connectAsync("echo", (conn, data) -> { }).get(T.toSeconds(), TimeUnit.SECONDS);
        big.write(ByteBuffer.wrap(new byte[1 << 20])).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(client.status().channel(big.id()).orElseThrow().windowStalls()).isPositive();
        assertThat(client.status().channel(small.id()).orElseThrow().windowStalls()).isZero();
    }

    @Test
    void aBindFailureIsCountedAsAnErrorOfItsService() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            EventRecorder events = new EventRecorder();
            ManCom m = start("{ endpoint = \"tcp://127.0.0.1:" + taken.getLocalPort() + "\" }", events);
            m.registerDataReceiver("echo", (conn, data) -> { });
            assertThatThrownBy(() -> m.awaitReady(T)).isInstanceOf(ManComException.class);
            ManComException error = next(events.errors, T);
            assertThat(error.reason()).isEqualTo(Reason.ADDRESS_IN_USE);
            ServiceStatus echo = m.status().service("echo").orElseThrow();
            assertThat(echo.errors()).containsExactly(java.util.Map.entry(Reason.ADDRESS_IN_USE, 1L));
            assertThat(echo.connectionsOpen()).isZero();
        }
    }

    @Test
    void aWriteRefusedForAFullQueueIsCountedAndClosesNothing() throws Exception {
        ManCom server = start("{ endpoint = \"tcp://127.0.0.1:0\" }", new EventRecorder());
        server.registerDataReceiver("echo", (conn, data) -> { });
        server.awaitReady(T);
        EventRecorder events = new EventRecorder();
        ManCom client = start("{ endpoint = \"tcp://127.0.0.1:" + port(server) + "\"\n"
                + " write-buffer { low-water = 16KiB, high-water = 32KiB, max-pending = 64KiB } }", events);
        Connection c = client.connectAsync("echo", (conn, data) -> { }).get(T.toSeconds(), TimeUnit.SECONDS);
        // More than max-pending in one write: refused at once, whatever the peer reads.
        CompletableFuture<Void> refused = c.write(ByteBuffer.wrap(new byte[100_000])).toCompletableFuture();
        assertThatThrownBy(refused::join).isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(ManComException.class)
                .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.WRITE_QUEUE_FULL));
        ManComException error = next(events.errors, T);
        assertThat(error.reason()).isEqualTo(Reason.WRITE_QUEUE_FULL);
        ServiceStatus echo = client.status().service("echo").orElseThrow();
        assertThat(echo.errors()).containsExactly(java.util.Map.entry(Reason.WRITE_QUEUE_FULL, 1L));
        assertThat(c.isOpen()).isTrue();
        assertThat(client.status().channel(c.id())).isPresent();
        c.write(ByteBuffer.wrap(new byte[1000])).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
    }
}
