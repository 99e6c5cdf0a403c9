package io.mancom.tcp;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code link = reliable} over real loopback sockets, through a relay that damages the bytes
 * (bit errors, dropped bytes, garbage) and cuts the connection: the mux runs on it unchanged,
 * several services echo byte-exact in both directions at once, a cut link resumes the same
 * session, and a peer that is not in reliable mode gets a clear error.
 */
class ReliableLinkTcpTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        runtimes.close();
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private static String services(String endpoint, String link, String... names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            sb.append("mancom.services.").append(n).append(" { endpoint = \"").append(endpoint).append("\", mux = on")
                    .append(link.isEmpty() ? "" : ", link = " + link).append(" }\n");
        }
        return sb.toString();
    }

    private int serveEcho(String link, String... names) throws Exception {
        ManCom server = runtimes.start(services("tcp://127.0.0.1:0", link, names));
        for (String n : names) {
            server.registerDataReceiver(n, (c, d) -> c.write(d));
        }
        server.awaitReady(T);
        return ((io.mancom.TcpAddress) server.boundEndPoint(names[0]).orElseThrow().address()).port();
    }

    /** Collects {@code n} bytes, then completes; records a close before that as a failure. */
    private static DataReceiver collector(int n, CompletableFuture<byte[]> done) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        return new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                synchronized (got) {
                    got.writeBytes(b);
                    if (got.size() >= n) {
                        done.complete(got.toByteArray());
                    }
                }
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                done.completeExceptionally(cause != null ? cause : new IllegalStateException("closed after " + got.size() + " bytes"));
            }
        };
    }

    private void echoThroughRelay(FaultyTcpRelay relay, int perStream, Runnable midway, String... names) throws Exception {
        ManCom client = runtimes.start(services("tcp://127.0.0.1:" + relay.port(), "reliable", names));
        List<byte[]> sent = new ArrayList<>();
        List<CompletableFuture<byte[]>> echoed = new ArrayList<>();
        List<Connection> streams = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            byte[] payload = EchoTest.randomBytes(perStream, 100 + i);
            sent.add(payload);
            CompletableFuture<byte[]> done = new CompletableFuture<>();
            echoed.add(done);
            streams.add(client.connectAsync(names[i], collector(payload.length, done)).get(30, TimeUnit.SECONDS));
        }
        // Every stream writes all of it at once; the echoes come back while it is still sending.
        boolean midwayDone = midway == null;
        for (int off = 0; off < perStream; off += 8192) {
            for (int i = 0; i < names.length; i++) {
                streams.get(i).write(sent.get(i), off, Math.min(8192, perStream - off));
            }
            if (!midwayDone && off >= perStream / 2) {
                midwayDone = true;
                midway.run();
            }
        }
        for (int i = 0; i < names.length; i++) {
            assertThat(echoed.get(i).get(120, TimeUnit.SECONDS)).as("stream %s", names[i]).isEqualTo(sent.get(i));
        }
    }

    @Test
    void theMuxOverAReliableLinkCarriesSeveralServicesByteExactThroughBitErrorsDropsAndGarbage() throws Exception {
        int port = serveEcho("reliable", "alpha", "beta", "gamma");
        FaultyTcpRelay relay = new FaultyTcpRelay(port, 2026);
        closeables.add(relay);
        relay.ber = 1e-4;
        relay.dropPerByte = 0.001;
        relay.garbagePerChunk = 0.02;
        echoThroughRelay(relay, 256 * 1024, null, "alpha", "beta", "gamma");
        assertThat(relay.flipped.get()).isPositive();
        assertThat(relay.dropped.get()).isPositive();
        assertThat(relay.garbage.get()).isPositive();
        assertThat(relay.connections()).as("no reconnect was needed").isEqualTo(1);
    }

    @Test
    void aCutConnectionResumesTheSameSessionWithNothingLostOrDuplicated() throws Exception {
        int port = serveEcho("reliable", "alpha", "beta");
        FaultyTcpRelay relay = new FaultyTcpRelay(port, 7);
        closeables.add(relay);
        AtomicReference<Throwable> cutFailure = new AtomicReference<>();
        Thread cutter = new Thread(() -> {
            try {
                Thread.sleep(1); // the cut lands while both directions carry data
                relay.cut();
            } catch (InterruptedException e) {
                cutFailure.set(e);
            }
        });
        echoThroughRelay(relay, 1 << 20, cutter::start, "alpha", "beta");
        cutter.join();
        assertThat(cutFailure.get()).isNull();
        assertThat(relay.connections()).as("the client dialled again").isGreaterThanOrEqualTo(2);
    }

    @Test
    void aPeerThatEchoesInsteadOfSpeakingTheReliableLinkGetsAClearError() throws Exception {
        ManCom server = runtimes.start("mancom.services.plain { endpoint = \"tcp://127.0.0.1:0\" }\n");
        server.registerDataReceiver("plain", (c, d) -> c.write(d));
        server.awaitReady(T);
        EndPoint bound = server.boundEndPoint("plain").orElseThrow();
        ManCom client = runtimes.start("mancom.services.plain { endpoint = \"" + bound + "\", link = reliable }\n");
        CompletableFuture<Connection> c = client.connectAsync("plain", (conn, d) -> { });
        assertThatThrownBy(() -> c.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ManComException.class)
                .hasMessageContaining("it echoes what it receives, so it is not in reliable link mode (set link = reliable on both sides)");
    }

    @Test
    void aPlainMuxPeerGetsAClearErrorNamingTheMissingSetting() throws Exception {
        int port = serveEcho("", "alpha");
        ManCom client = runtimes.start(services("tcp://127.0.0.1:" + port, "{ mode = reliable, timeout = 2s }", "alpha"));
        CompletableFuture<Connection> c = client.connectAsync("alpha", (conn, d) -> { });
        assertThatThrownBy(() -> c.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ManComException.class)
                .hasMessageContaining("link = reliable");
    }
}
