package io.mancom.tcp;

import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code handler = forward} on real sockets: byte-exact both ways with half-close through a port
 * shared by match (the sniffed bytes first), the PROXY v2 header exactly, and a backend that is not
 * there.
 */
class ForwardTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }

    private ManComRuntime forwarding(int backendPort, boolean proxy) throws Exception {
        ManComRuntime m = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  web { endpoint = \"tcp://127.0.0.1:0\", match = http1 }\n"
                + "  relay { endpoint = \"tcp://127.0.0.1:0\", match { prefix = \"MAGIC\" }, handler = forward\n"
                + "          forward { endpoint = \"tcp://127.0.0.1:" + backendPort + "\", proxy-protocol = "
                + (proxy ? "v2" : "off") + " } }\n"
                + "}");
        m.handleLinks("relay", m.forwarder("relay"));
        m.registerDataReceiver("web", TinyHttp.http1("web"));
        m.awaitReady(T);
        return m;
    }

    private static int port(ManComRuntime m) {
        return ((TcpAddress) m.boundEndPoint("relay").orElseThrow().address()).port();
    }

    private static String sha(byte[] b, int off, int len) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        d.update(b, off, len);
        return HexFormat.of().formatHex(d.digest());
    }

    // Repeated: it once failed 1 run in 8, when Netty 4.2.18 dropped the client's half-closed socket from
    // the epoll set (see EpollKeepRegistered); @RepeatedTest(40) is how that was found and how to check it.
    @org.junit.jupiter.api.RepeatedTest(5)
    void bytesArriveExactlyBothWaysAndEachSideFinishesWritingOnItsOwn() throws Exception {
        byte[] up = new byte[8 << 20];
        new Random(1).nextBytes(up);
        System.arraycopy("MAGIC".getBytes(), 0, up, 0, 5);
        byte[] down = new byte[6 << 20];
        new Random(2).nextBytes(down);
        try (ServerSocket backend = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            // The backend reads to the end of the client's stream, only then answers, then ends its own.
            CompletableFuture<String> received = CompletableFuture.supplyAsync(() -> {
                try (Socket s = backend.accept()) {
                    byte[] all = s.getInputStream().readAllBytes();
                    s.getOutputStream().write(down);
                    s.shutdownOutput();
                    assertThat(s.getInputStream().read()).isEqualTo(-1);
                    return sha(all, 0, all.length);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            ManComRuntime m = forwarding(backend.getLocalPort(), false);
            try (Socket c = new Socket("127.0.0.1", port(m))) {
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        c.getOutputStream().write(up);
                        c.shutdownOutput();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                byte[] back = c.getInputStream().readAllBytes();
                writer.get(30, TimeUnit.SECONDS);

                assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(sha(up, 0, up.length));
                assertThat(sha(back, 0, back.length)).isEqualTo(sha(down, 0, down.length));
            }
        }
    }

    @Test
    void aBackendThatDoesNotReadStopsTheClientWithinBoundedBuffersThenGetsEveryByte() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            ManComRuntime m = forwarding(backend.getLocalPort(), false);
            try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(
                    new InetSocketAddress("127.0.0.1", port(m)))) {
                MessageDigest sent = MessageDigest.getInstance("SHA-256");
                c.write(ByteBuffer.wrap("MAGIC".getBytes()));
                sent.update("MAGIC".getBytes());
                Socket b = backend.accept();
                b.setSoTimeout(30_000);
                // The backend reads nothing: the client must be stopped by full buffers (the kernel's
                // and the relay's bounded ones), far below what it offers.
                c.configureBlocking(false);
                long written = 5;
                long offer = 256L << 20;
                Random r = new Random(5);
                byte[] chunk = new byte[64 << 10];
                try (java.nio.channels.Selector sel = java.nio.channels.Selector.open()) {
                    c.register(sel, java.nio.channels.SelectionKey.OP_WRITE);
                    while (written < offer) {
                        r.nextBytes(chunk);
                        ByteBuffer bb = ByteBuffer.wrap(chunk);
                        while (bb.hasRemaining()) {
                            int n = c.write(bb);
                            if (n == 0 && sel.select(1_000) == 0) {
                                break; // no room for a second: stopped
                            }
                            sel.selectedKeys().clear();
                        }
                        sent.update(chunk, 0, bb.position());
                        written += bb.position();
                        if (bb.hasRemaining()) {
                            break;
                        }
                    }
                }
                assertThat(written).as("bytes the client could write to a backend that reads nothing").isLessThan(64L << 20);
                // Now the backend reads: every byte arrives, in order, and the end after them.
                CompletableFuture<String> got = CompletableFuture.supplyAsync(() -> {
                    try (b) {
                        MessageDigest d = MessageDigest.getInstance("SHA-256");
                        byte[] buf = new byte[1 << 16];
                        for (int n; (n = b.getInputStream().read(buf)) > 0; ) {
                            d.update(buf, 0, n);
                        }
                        return HexFormat.of().formatHex(d.digest());
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                c.configureBlocking(true);
                c.shutdownOutput();
                assertThat(got.get(30, TimeUnit.SECONDS)).isEqualTo(HexFormat.of().formatHex(sent.digest()));
            }
        }
    }

    @Test
    void theProxyV2HeaderGivesTheBackendTheClientsAddressThenTheBytesFollowUnchanged() throws Exception {
        try (ServerSocket backend = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            CompletableFuture<byte[]> head = CompletableFuture.supplyAsync(() -> {
                try (Socket s = backend.accept()) {
                    byte[] b = new byte[28 + 9];
                    new DataInputStream(s.getInputStream()).readFully(b);
                    s.getOutputStream().write("ok".getBytes());
                    return b;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            ManComRuntime m = forwarding(backend.getLocalPort(), true);
            try (Socket c = new Socket()) {
                c.connect(new InetSocketAddress("127.0.0.1", port(m)));
                c.getOutputStream().write("MAGIC1234".getBytes());
                assertThat(c.getInputStream().readNBytes(2)).isEqualTo("ok".getBytes());
                ByteBuffer expected = ByteBuffer.allocate(28 + 9)
                        .put(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A})
                        .put((byte) 0x21).put((byte) 0x11).putShort((short) 12)
                        .put(new byte[] {127, 0, 0, 1}).put(new byte[] {127, 0, 0, 1})
                        .putShort((short) c.getLocalPort()).putShort((short) port(m))
                        .put("MAGIC1234".getBytes());
                assertThat(HexFormat.of().formatHex(head.get(10, TimeUnit.SECONDS)))
                        .isEqualTo(HexFormat.of().formatHex(expected.array()));
            }
        }
    }

    @Test
    void aBackendThatIsNotThereClosesTheClientAndCountsTheError() throws Exception {
        int nothing = ExternalTools.freePort();
        ManComRuntime m = forwarding(nothing, false);
        for (int i = 0; i < 3; i++) {
            try (Socket c = new Socket("127.0.0.1", port(m))) {
                c.setSoTimeout(10_000);
                OutputStream out = c.getOutputStream();
                out.write("MAGIC".getBytes());
                InputStream in = c.getInputStream();
                assertThat(in.read()).isEqualTo(-1);
            }
        }
        assertThat(m.status().services().stream().filter(s -> s.name().equals("relay")).findFirst().orElseThrow()
                .errors()).containsEntry(ManComException.Reason.UNREACHABLE, 3L);
    }
}
