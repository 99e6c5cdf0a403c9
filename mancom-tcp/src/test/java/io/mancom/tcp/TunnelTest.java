package io.mancom.tcp;

import io.mancom.ChannelStatus;
import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.testkit.Nginx;
import io.mancom.testkit.TestRuntimes;
import io.mancom.testkit.Tools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code handler = tunnel} over TCP with real peers: curl → near ManCom (tunnel) → one mux TCP
 * link → far ManCom (a mux service with {@code handler = forward}) → nginx. Skipped without nginx
 * or curl (failed with {@code CI=true}).
 */
class TunnelTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();
    @TempDir
    Path dir;
    private Nginx nginx;
    private ManComRuntime far;
    private ManComRuntime near;
    private int nearPort;
    private java.net.ServerSocket raw;
    private final java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();

    @BeforeEach
    void start() throws Exception {
        Nginx.require();
        Tools.require("curl", "curl");
        Path www = Files.createDirectories(dir.resolve("www"));
        for (int i = 0; i < 4; i++) {
            byte[] b = new byte[(1 << 20) * (i + 1) + i];
            new Random(i).nextBytes(b);
            Files.write(www.resolve("f" + i), b);
        }
        byte[] big = new byte[64 << 20];
        new Random(9).nextBytes(big);
        Files.write(www.resolve("big"), big);
        int port = Nginx.freePort();
        nginx = Nginx.start(dir.resolve("nginx"), 1, "server { listen 127.0.0.1:" + port + "; root " + www + "; }",
                List.of(port));
        raw = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        // Two far services on one mux port: each tunnel's streams reach the one named like it.
        int farPort = Nginx.freePort();
        String farEnd = "\"tcp://127.0.0.1:" + farPort + "\"";
        far = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  web { endpoint = " + farEnd + ", mux = on, handler = forward, forward = \"tcp://127.0.0.1:" + port + "\" }\n"
                + "  raw { endpoint = " + farEnd + ", mux = on, handler = forward, forward = \"tcp://127.0.0.1:"
                + raw.getLocalPort() + "\" }\n"
                + "}");
        far.handleLinks("web", far.forwarder("web"));
        far.handleLinks("raw", far.forwarder("raw"));
        far.awaitReady(T);
        near = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  uplink { endpoint = " + farEnd + ", mux = on, listen = off }\n"
                + "  web { endpoint = \"tcp://127.0.0.1:0\", handler = tunnel, via = uplink }\n"
                + "  plain { endpoint = \"tcp://127.0.0.1:0\", handler = tunnel, via = uplink, tunnel.service = raw }\n"
                + "}");
        near.handleLinks("web", near.tunneller("web"));
        near.handleLinks("plain", near.tunneller("plain"));
        near.awaitReady(T);
        nearPort = ((TcpAddress) near.boundEndPoint("web").orElseThrow().address()).port();
    }

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        runtimes.close();
        if (raw != null) {
            raw.close();
        }
        if (nginx != null) {
            nginx.close();
        }
    }

    private CompletableFuture<byte[]> curl(String file) {
        return CompletableFuture.supplyAsync(() -> { // a thread each: they run at once
            Tools.Result r = Tools.run(dir, new byte[0], 60, List.of("curl", "-sS", "--fail", "-o",
                    dir.resolve("got-" + file + "-" + System.nanoTime()).toString(), "-w", "%{filename_effective}",
                    "http://127.0.0.1:" + nearPort + "/" + file));
            assertThat(r.exit()).as(r.all()).isZero();
            try {
                return Files.readAllBytes(Path.of(r.out().trim()));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, threads);
    }

    private long farSession() {
        List<ChannelStatus> sessions = far.status().channels().stream()
                .filter(c -> c.kind() == ChannelStatus.Kind.MUX_SESSION).toList();
        assertThat(sessions).hasSize(1);
        return sessions.get(0).id();
    }

    @Test
    void concurrentCurlsGetTheirFilesExactlyOverOneLink() throws Exception {
        assertThat(curl("f0").get(30, TimeUnit.SECONDS)).isEqualTo(Files.readAllBytes(dir.resolve("www/f0")));
        long session = farSession();
        List<CompletableFuture<byte[]>> all = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            all.add(curl("f" + (i % 4)));
        }
        for (int i = 0; i < all.size(); i++) {
            assertThat(all.get(i).get(60, TimeUnit.SECONDS)).as("curl %d", i)
                    .isEqualTo(Files.readAllBytes(dir.resolve("www/f" + (i % 4))));
        }
        // The far side saw one TCP connection from the near side, the same all along.
        assertThat(farSession()).isEqualTo(session);
        assertThat(far.status().channels().stream().filter(c -> c.kind() == ChannelStatus.Kind.TCP
                && c.service().equals("web"))).isEmpty();
    }

    @Test
    void aClientThatDoesNotReadDoesNotStallAnother() throws Exception {
        try (Socket slow = new Socket("127.0.0.1", nearPort)) {
            slow.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = slow.getInputStream();
            // Its response has started (the stream is open and flowing), then it stops reading.
            assertThat(new String(in.readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
            // 64 MiB cannot all be buffered between nginx and this socket, so the slow stream is held
            // by its credit while another client's transfer crosses the same link.
            for (int i = 0; i < 3; i++) {
                assertThat(curl("f3").get(60, TimeUnit.SECONDS)).isEqualTo(Files.readAllBytes(dir.resolve("www/f3")));
            }
            // And the slow client gets all of its bytes once it reads.
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                assertThat(b).as("headers so far: %s", head).isNotNegative();
                head.append((char) b);
            }
            assertThat(in.readNBytes(64 << 20)).isEqualTo(Files.readAllBytes(dir.resolve("www/big")));
        }
    }

    @Test
    void eachSideFinishesWritingOnItsOwnThroughTheTunnel() throws Exception {
        byte[] up = new byte[3 << 20];
        new Random(3).nextBytes(up);
        byte[] down = new byte[2 << 20];
        new Random(4).nextBytes(down);
        // The backend reads to the end of the client's stream, only then answers, then ends its own.
        CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> {
            try (Socket s = raw.accept()) {
                byte[] all = s.getInputStream().readAllBytes();
                s.getOutputStream().write(down);
                s.shutdownOutput();
                return all;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, threads);
        int plain = ((TcpAddress) near.boundEndPoint("plain").orElseThrow().address()).port();
        try (Socket c = new Socket("127.0.0.1", plain)) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    c.getOutputStream().write(up);
                    c.shutdownOutput();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, threads);
            byte[] back = c.getInputStream().readAllBytes();
            writer.get(30, TimeUnit.SECONDS);
            assertThat(received.get(30, TimeUnit.SECONDS)).isEqualTo(up);
            assertThat(back).isEqualTo(down);
        }
    }
}
