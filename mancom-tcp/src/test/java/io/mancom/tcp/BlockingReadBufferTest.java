package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.testkit.Await;
import io.mancom.testkit.LeakDetector;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The blocking API's read buffer keeps the link's own buffers where it can (no copy per read):
 * reads of any size, into arrays and direct buffers, still see every byte in order, and unread
 * bytes never leave a pooled buffer unreleased, whether the application closes or not.
 */
class BlockingReadBufferTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }

    private static String service(String endpoint, boolean mux) {
        return "mancom.services.buf { endpoint = \"" + endpoint + "\", mux = " + (mux ? "on" : "off") + " }";
    }

    @ParameterizedTest(name = "mux {0}")
    @ValueSource(booleans = {false, true})
    void readsOfEverySizeSeeEveryByteInOrder(boolean mux) throws Exception {
        ManCom server = runtimes.start(service("tcp://127.0.0.1:0", mux));
        EndPoint bound = server.listen("buf", T);
        byte[] payload = new byte[3_000_000];
        new Random(7).nextBytes(payload);
        CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
            try (BlockingConnection s = server.accept("buf", T)) {
                // Odd sizes split the link's buffers anywhere; direct and array reads alternate.
                Random sizes = new Random(8);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteBuffer direct = ByteBuffer.allocateDirect(70_000);
                byte[] array = new byte[70_000];
                for (int i = 0; ; i++) {
                    int want = 1 + sizes.nextInt(i % 3 == 0 ? 7 : 70_000);
                    int n;
                    if (i % 2 == 0) {
                        n = s.read(array, 3, Math.min(want, array.length - 3), T);
                        if (n > 0) {
                            out.write(array, 3, n);
                        }
                    } else {
                        direct.clear().position(5).limit(Math.min(direct.capacity(), 5 + want));
                        n = s.read(direct, T);
                        assertThat(direct.position()).isEqualTo(5 + Math.max(n, 0));
                        for (int k = 0; k < n; k++) {
                            out.write(direct.get(5 + k));
                        }
                    }
                    if (n < 0) {
                        return out.toByteArray();
                    }
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        ManCom client = runtimes.start(service(bound.toString(), mux));
        try (BlockingConnection c = client.connect("buf")) {
            c.write(payload);
        }
        assertThat(got.get(60, TimeUnit.SECONDS)).isEqualTo(payload);
    }

    /**
     * A link that ends while its bytes wait unread: here the peer resets it (over plain TCP a
     * peer's orderly close is only a half-close, which keeps the connection, and so its
     * buffers, open until the application closes it).
     */
    @Test
    void unreadBytesOfAClosedConnectionHoldNoPooledBuffer() throws Exception {
        byte[] payload = new byte[100_000];
        new Random(9).nextBytes(payload);
        try (ServerSocket peer = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            ManCom client = runtimes.start(service("tcp://127.0.0.1:" + peer.getLocalPort(), false));
            BlockingConnection c = client.connect("buf");
            sendAndReset(peer, c, payload);
            // Delivered before the reset: still there, in order, and then the reset is reported.
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            assertThatThrownBy(() -> {
                int n;
                while ((n = c.read(buf, T)) > 0) {
                    got.write(buf, 0, n);
                }
            }).isInstanceOf(IOException.class);
            assertThat(got.toByteArray()).isEqualTo(payload);

            // Never read, never closed: once unreachable, nothing may be reported as a leak.
            receiveAndDrop(peer, client, payload);
            assertThat(LeakDetector.sweep()).isEmpty();
        }
    }

    /** Connects, lets the peer send {@code payload} and reset, and forgets the connection. */
    private static void receiveAndDrop(ServerSocket peer, ManCom client, byte[] payload) throws Exception {
        sendAndReset(peer, client.connect("buf"), payload);
    }

    private static void sendAndReset(ServerSocket peer, BlockingConnection c, byte[] payload) throws Exception {
        try (Socket s = peer.accept()) {
            s.getOutputStream().write(payload);
            Await.until("the payload to be buffered", () -> available(c) == payload.length);
            s.setSoLinger(true, 0); // close with a reset
        }
        Await.until("the connection to close", () -> !c.isOpen());
    }

    private static int available(BlockingConnection c) {
        try {
            return c.inputStream().available();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
