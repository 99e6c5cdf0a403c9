package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.ChannelStatus;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.ManComStatus;
import io.mancom.ServiceStatus;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static io.mancom.tcp.EventRecorder.next;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The counters of ManCom.status() and the EventListener over real loopback TCP, in both API
 * styles: N bytes each way show as exactly N on both sides, a closed channel leaves the live list
 * and its counts stay in its service's totals.
 */
class MonitoringCountersTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final int N = (1 << 20) + 7;
    /**
     * Within one stream window: a callback echo of a larger transfer over one mux stream stalls
     * today (the served stream stops reading once it was unwritable; seen with these counters).
     */
    private static final int M = 60_007;
    private final List<ManCom> runtimes = new ArrayList<>();
    @TempDir
    Path dir;

    @AfterEach
    void close() {
        runtimes.forEach(ManCom::close);
    }

    private ManCom start(String endpoint, EventRecorder events) {
        ManCom m = TestManCom.builder("mancom.services.echo.endpoint = \"" + endpoint + "\"\n"
                + "mancom.runtime-dir = \"" + dir + "\"").eventListener(events).start();
        runtimes.add(m);
        return m;
    }

    private static int port(ManCom server) {
        return ((TcpAddress) server.boundEndPoint("echo").orElseThrow().address()).port();
    }

    @Test
    void callbackStyleCountsExactlyOnBothSides() throws Exception {
        EventRecorder serverEvents = new EventRecorder();
        EventRecorder clientEvents = new EventRecorder();
        ManCom server = start("tcp://127.0.0.1:0", serverEvents);
        server.registerDataReceiver("echo", (conn, data) -> conn.write(data));
        server.awaitReady(T);
        ManCom client = start("tcp://127.0.0.1:" + port(server), clientEvents);

        AtomicLong received = new AtomicLong();
        CompletableFuture<Void> echoed = new CompletableFuture<>();
        Connection c = client.connectAsync("echo", new DataReceiver() {
            @Override
            public void onData(Connection connection, ByteBuffer data) {
                if (received.addAndGet(data.remaining()) == N) {
                    echoed.complete(null);
                }
            }

            @Override
            public void onClose(Connection connection, Throwable cause) {
                echoed.completeExceptionally(new AssertionError("closed early", cause));
            }
        }).get(10, TimeUnit.SECONDS);
        byte[] payload = EchoTest.randomBytes(N, 7);
        for (int off = 0; off < N; off += 10_000) {
            c.write(payload, off, Math.min(10_000, N - off));
        }
        echoed.get(20, TimeUnit.SECONDS);

        // Live: the server counted every byte in before its receiver saw it; the echo's last
        // write completes on the server's loop a moment after the client has read it.
        ChannelStatus live = only(server.status().channelsOf("echo"));
        assertThat(live.bytesIn()).isEqualTo(N);
        assertThat(live.kind()).isEqualTo(ChannelStatus.Kind.TCP);
        assertThat(live.state()).isEqualTo(ChannelStatus.State.OPEN);
        assertThat(live.remote()).isEqualTo(c.local());
        awaitTrue(() -> only(server.status().channelsOf("echo")).bytesOut() == N);
        ChannelStatus clientLive = client.status().channel(c.id()).orElseThrow();
        assertThat(clientLive.bytesIn()).isEqualTo(N);
        assertThat(serverEvents.opened.peek()).isNotNull();
        assertThat(next(serverEvents.opened, T).id()).isEqualTo(live.id());

        c.close();
        c.closeFuture().toCompletableFuture().get(10, TimeUnit.SECONDS);
        EventRecorder.Closed clientClosed = next(clientEvents.closed, T);
        assertThat(clientClosed.channel().id()).isEqualTo(c.id());
        assertThat(clientClosed.channel().bytesOut()).isEqualTo(N);
        assertThat(clientClosed.channel().bytesIn()).isEqualTo(N);
        assertThat(clientClosed.channel().state()).isEqualTo(ChannelStatus.State.CLOSED);
        assertThat(clientClosed.channel().closeCause()).isEqualTo("closed here");
        assertThat(clientClosed.cause()).isNull();
        EventRecorder.Closed serverClosed = next(serverEvents.closed, T);
        assertThat(serverClosed.channel().id()).isEqualTo(live.id());
        assertThat(serverClosed.channel().bytesIn()).isEqualTo(N);
        assertThat(serverClosed.channel().bytesOut()).isEqualTo(N);
        assertThat(serverClosed.channel().closeCause()).isEqualTo("closed by the peer");

        // Closed channels leave the live list; their bytes stay in the service's totals.
        assertThat(client.status().channels()).isEmpty();
        ManComStatus s = server.status();
        assertThat(s.channels()).isEmpty();
        ServiceStatus echo = s.service("echo").orElseThrow();
        assertThat(echo.bytesIn()).isEqualTo(N);
        assertThat(echo.bytesOut()).isEqualTo(N);
        assertThat(echo.acceptedTotal()).isEqualTo(1);
        assertThat(echo.connectionsOpen()).isZero();
        assertThat(echo.errors()).isEmpty();
        assertThat(echo.state()).isEqualTo(ServiceStatus.State.LISTENING);
        assertThat(echo.style()).isEqualTo(ServiceStatus.Style.CALLBACKS);
        assertThat(echo.bound()).isEqualTo(server.boundEndPoint("echo").orElseThrow());
        ServiceStatus clientEcho = client.status().service("echo").orElseThrow();
        assertThat(clientEcho.bytesOut()).isEqualTo(N);
        assertThat(clientEcho.bytesIn()).isEqualTo(N);
        assertThat(clientEcho.acceptedTotal()).isZero();
        assertThat(clientEcho.state()).isEqualTo(ServiceStatus.State.IDLE);
    }

    @Test
    void blockingStyleCountsExactlyOnBothSides() throws Exception {
        EventRecorder serverEvents = new EventRecorder();
        EventRecorder clientEvents = new EventRecorder();
        ManCom server = start("tcp://127.0.0.1:0", serverEvents);
        server.listen("echo", T);
        ManCom client = start("tcp://127.0.0.1:" + port(server), clientEvents);
        CompletableFuture<Long> served = CompletableFuture.supplyAsync(() -> {
            try (BlockingConnection s = server.accept("echo", T)) {
                byte[] buf = new byte[8192];
                long total = 0;
                int n;
                while ((n = s.read(buf, T)) > 0) {
                    s.write(buf, 0, n);
                    total += n;
                }
                return total;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        byte[] payload = EchoTest.randomBytes(N, 8);
        long id;
        try (BlockingConnection c = client.connect("echo")) {
            id = c.id();
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                try {
                    return EchoTest.readExactly(c, N);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            c.write(payload);
            assertThat(back.get(20, TimeUnit.SECONDS)).isEqualTo(payload);
            assertThat(client.status().channel(id).orElseThrow().bytesIn()).isEqualTo(N);
            c.shutdownOutput();
            assertThat(served.get(20, TimeUnit.SECONDS)).isEqualTo(N);
        }
        EventRecorder.Closed clientClosed = next(clientEvents.closed, T);
        assertThat(clientClosed.channel().id()).isEqualTo(id);
        assertThat(clientClosed.channel().bytesOut()).isEqualTo(N);
        assertThat(clientClosed.channel().bytesIn()).isEqualTo(N);
        EventRecorder.Closed serverClosed = next(serverEvents.closed, T);
        assertThat(serverClosed.channel().bytesIn()).isEqualTo(N);
        assertThat(serverClosed.channel().bytesOut()).isEqualTo(N);
        assertThat(server.status().channels()).isEmpty();
        ServiceStatus echo = server.status().service("echo").orElseThrow();
        assertThat(echo.style()).isEqualTo(ServiceStatus.Style.BLOCKING);
        assertThat(echo.bytesIn()).isEqualTo(N);
        assertThat(echo.bytesOut()).isEqualTo(N);
        assertThat(echo.acceptedTotal()).isEqualTo(1);
    }

    @Test
    void aResetIsAnErrorWithItsReason() throws Exception {
        EventRecorder events = new EventRecorder();
        ManCom server = start("tcp://127.0.0.1:0", events);
        server.registerDataReceiver("echo", (conn, data) -> conn.write(data));
        server.awaitReady(T);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port(server)));
            s.getOutputStream().write(new byte[]{1, 2, 3});
            s.getInputStream().readNBytes(3);
            s.setSoLinger(true, 0); // close sends RST
        }
        EventRecorder.Closed closed = next(events.closed, T);
        assertThat(closed.channel().bytesIn()).isEqualTo(3);
        assertThat(closed.channel().bytesOut()).isEqualTo(3);
        assertThat(closed.cause()).isNotNull();
        assertThat(closed.channel().closeCause()).startsWith("LINK_FAILED: ");
        ServiceStatus echo = server.status().service("echo").orElseThrow();
        assertThat(echo.errors()).containsEntry(ManComException.Reason.LINK_FAILED, 1L);
    }

    @Test
    void muxStreamsCountTheirBytesAndTheirSessionCountsItsStreams() throws Exception {
        EventRecorder serverEvents = new EventRecorder();
        ManCom server = startMux("tcp://127.0.0.1:0", serverEvents);
        server.registerDataReceiver("echo", (conn, data) -> conn.write(data));
        server.awaitReady(T);
        ManCom client = startMux("tcp://127.0.0.1:" + port(server), new EventRecorder());
        byte[] payload = EchoTest.randomBytes(M, 9);
        CompletableFuture<Void> echoed = new CompletableFuture<>();
        AtomicLong received = new AtomicLong();
        Connection a = client.connectAsync("echo", (conn, data) -> {
            if (received.addAndGet(data.remaining()) == M) {
                echoed.complete(null);
            }
        }).get(10, TimeUnit.SECONDS);
        Connection b = client.connectAsync("echo", (conn, data) -> { }).get(10, TimeUnit.SECONDS);
        try {
            for (int off = 0; off < M; off += 10_000) {
                a.write(payload, off, Math.min(10_000, M - off));
            }
            echoed.get(20, TimeUnit.SECONDS);

            ManComStatus s = client.status();
            ChannelStatus session = s.channels().stream().filter(c -> c.kind() == ChannelStatus.Kind.MUX_SESSION)
                    .findFirst().orElseThrow();
            assertThat(session.streamsOpen()).isEqualTo(2);
            assertThat(session.service()).isEqualTo("echo");
            // The session carries every stream byte plus frame headers and the preambles.
            assertThat(session.bytesOut()).isGreaterThan(M);
            ChannelStatus stream = s.channel(a.id()).orElseThrow();
            assertThat(stream.kind()).isEqualTo(ChannelStatus.Kind.MUX_STREAM);
            assertThat(stream.sessionId()).isEqualTo(session.id());
            assertThat(stream.bytesIn()).isEqualTo(M);
            assertThat(s.channel(b.id()).orElseThrow().bytesIn()).isZero();
            ServiceStatus echo = s.service("echo").orElseThrow();
            assertThat(echo.muxStreamsOpen()).isEqualTo(2);
            assertThat(echo.connectionsOpen()).isEqualTo(2);
            awaitTrue(() -> server.status().service("echo").orElseThrow().bytesOut() == M);
            ServiceStatus served = server.status().service("echo").orElseThrow();
            assertThat(served.bytesIn()).as("stream bytes only, not the session's").isEqualTo(M);
            assertThat(served.acceptedTotal()).isEqualTo(2);
        } finally {
            a.close();
            b.close();
        }
    }

    private ManCom startMux(String endpoint, EventRecorder events) {
        ManCom m = TestManCom.builder("mancom.services.echo { endpoint = \"" + endpoint + "\", mux = on }\n"
                + "mancom.runtime-dir = \"" + dir + "\"").eventListener(events).start();
        runtimes.add(m);
        return m;
    }

    private static ChannelStatus only(List<ChannelStatus> channels) {
        assertThat(channels).hasSize(1);
        return channels.get(0);
    }

    /** Waits for a condition the runtime reaches on its own loop a moment later. */
    static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + T.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not reached within " + T);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
