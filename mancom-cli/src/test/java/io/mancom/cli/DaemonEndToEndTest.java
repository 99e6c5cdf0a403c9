package io.mancom.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.testkit.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daemon with real applications, every one its own JVM: {@code mancom daemon}, {@code mancom
 * serve} (callbacks) and {@link BlockingPidEcho} (listen/accept), all reading one config file
 * whose services have {@code scope = system}; clients are plain {@link Socket}s of this JVM.
 */
@Timeout(240)
class DaemonEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Processes procs;

    @AfterEach
    void tearDown() throws InterruptedException {
        if (procs != null) {
            procs.close();
        }
    }

    private Path socket() {
        return dir.resolve("run/mancomd.sock");
    }

    private Path conf(String services) throws IOException {
        return Files.writeString(dir.resolve("mancom.conf"), String.join("\n",
                "mancom.runtime-dir = \"" + dir.resolve("run") + "\"",
                "mancom.services {", services, "}", ""));
    }

    private Process daemon(Path conf) throws IOException {
        procs = procs == null ? new Processes(dir) : procs;
        Process p = procs.mancom("daemon", "--config", conf.toString());
        procs.awaitLine(p, "mancom daemon serving on");
        return p;
    }

    private Process serve(Path conf) throws IOException {
        Process p = procs.mancom("serve", "--config", conf.toString());
        procs.awaitLine(p, "Serving until interrupted");
        return p;
    }

    private Process blocking(Path conf, String service) throws IOException {
        List<String> cmd = Processes.jvm(BlockingPidEcho.class.getName());
        cmd.addAll(List.of(conf.toString(), service));
        Process p = procs.start(cmd, java.util.Map.of());
        procs.awaitLine(p, "listening on");
        return p;
    }

    /** GET /status over the daemon's socket (the JDK's Unix channel; no curl needed). */
    private JsonNode status() throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket()));
            ch.write(ByteBuffer.wrap("GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII)));
            String a = new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
            return JSON.readTree(a.substring(a.indexOf("\r\n\r\n") + 4));
        }
    }

    private JsonNode service(String name) throws IOException {
        for (JsonNode s : status().get("services")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no service " + name + " in " + status());
    }

    private boolean attached(String name, int n) {
        try {
            return service(name).get("attached").size() == n;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private int held(String name) {
        try {
            return service(name).get("held").asInt();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * Connects, writes {@code payload}, reads {@code skip} bytes of greeting and then the echo. It
     * does not half-close before the echo is back: a socket handed over with its FIN already
     * queued is closed by the process's runtime before its echo is written (see docs/daemon.md,
     * "Tested here").
     */
    private static byte[] roundTrip(int port, byte[] payload, int skip) throws IOException {
        return roundTrip(port, payload, skip, new int[1]);
    }

    private static byte[] roundTrip(int port, byte[] payload, int skip, int[] localPort) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            localPort[0] = s.getLocalPort();
            s.setSoTimeout(60_000);
            s.getOutputStream().write(payload);
            InputStream in = s.getInputStream();
            in.readNBytes(skip);
            return in.readNBytes(payload.length);
        }
    }

    @Test
    void killMinusNineWhileClientsKeepConnectingRefusesNothingAndLosesNoByte() throws Exception {
        int port = freePort();
        Path conf = conf("  echo { endpoint = \"tcp://127.0.0.1:" + port + "\", scope = system }");
        Process d = daemon(conf);
        Process app = serve(conf);
        Await.until("serve attached", () -> attached("echo", 1));

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger done = new AtomicInteger();
        ConcurrentLinkedQueue<long[]> broken = new ConcurrentLinkedQueue<>(); // {began, local port}
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        ExecutorService clients = Executors.newFixedThreadPool(6);
        List<Future<?>> running = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
            int seed = t;
            running.add(clients.submit(() -> {
                Random r = new Random(seed);
                while (!stop.get()) {
                    byte[] payload = new byte[1 + r.nextInt(64 * 1024)];
                    r.nextBytes(payload);
                    long began = System.nanoTime();
                    int[] local = new int[1];
                    try {
                        byte[] back = roundTrip(port, payload, 0, local);
                        if (back.length < payload.length) {
                            // Ended early (a FIN): the killed process had read it all; judged below.
                            broken.add(new long[] {began, local[0]});
                        } else if (!Arrays.equals(back, payload)) {
                            failures.add("echo differs from what was sent (" + payload.length + " bytes)");
                        }
                        done.incrementAndGet();
                    } catch (java.net.ConnectException refused) {
                        failures.add("refused: " + refused);
                    } catch (IOException e) {
                        // Judged at the end: one begun while the killed process lived may have
                        // been its own and die with it; one begun after its death must not.
                        broken.add(new long[] {began, local[0]});
                    }
                }
            }));
        }
        Await.until("connections served before the kill", () -> done.get() >= 30);
        Processes.kill("KILL", app.pid());
        assertThat(app.waitFor(30, TimeUnit.SECONDS)).isTrue();
        long deadAt = System.nanoTime();
        int atKill = done.get();
        // The clients go on connecting; the daemon holds what arrives.
        Await.until("connections held while no process serves", () -> held("echo") >= 3);

        Process again = serve(conf);
        assertThat(again.pid()).isNotEqualTo(app.pid());
        Await.until("connections served after the restart", () -> done.get() >= atKill + 30);
        stop.set(true);
        for (Future<?> f : running) {
            f.get(120, TimeUnit.SECONDS);
        }
        clients.shutdown();
        assertThat(failures).as("refused connections, or broken ones begun after the kill; daemon:\n"
                + procs.stderr(d) + "\nrestarted app:\n" + procs.stderr(again) + "\nkilled app:\n" + procs.stderr(app))
                .isEmpty();
        assertThat(broken).as("connections reset although begun after the killed process was gone (began ms"
                        + " after its death, local port)")
                .map(b -> TimeUnit.NANOSECONDS.toMillis(b[0] - deadAt) + " ms, port " + b[1])
                .allMatch(b -> b.startsWith("-"));
        // At most one in-flight connection per client thread was the killed process's own.
        assertThat(broken.size()).isLessThanOrEqualTo(6);
        JsonNode echo = service("echo");
        assertThat(echo.get("held").asInt()).isZero();
        assertThat(echo.get("closedByHoldBounds").asInt()).isZero();
        assertThat(echo.get("handedOver").asInt()).isGreaterThanOrEqualTo(done.get());
    }

    @Test
    void twoBlockingProcessesShareOneServiceInTurn() throws Exception {
        Path conf = conf("  shared { endpoint = \"tcp://127.0.0.1:0\", scope = system }");
        daemon(conf);
        Process a = blocking(conf, "shared");
        Process b = blocking(conf, "shared");
        Await.until("both attached", () -> attached("shared", 2));
        int port = Integer.parseInt(service("shared").get("endpoint").asText().replaceAll(".*:", ""));
        List<Long> servedBy = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            byte[] payload = ("connection " + i).getBytes(StandardCharsets.US_ASCII);
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setSoTimeout(30_000);
                s.getOutputStream().write(payload);
                InputStream in = s.getInputStream();
                StringBuilder greeting = new StringBuilder();
                for (int c; (c = in.read()) != '\n'; ) {
                    assertThat(c).as("greeting so far: " + greeting).isNotNegative();
                    greeting.append((char) c);
                }
                assertThat(greeting.toString()).matches("pid \\d+");
                assertThat(in.readNBytes(payload.length)).isEqualTo(payload);
                servedBy.add(Long.parseLong(greeting.substring(4)));
            }
        }
        assertThat(servedBy).containsOnly(a.pid(), b.pid());
        for (int i = 1; i < servedBy.size(); i++) {
            assertThat(servedBy.get(i)).as("connection %d goes to the other process: %s", i, servedBy)
                    .isNotEqualTo(servedBy.get(i - 1));
        }
    }

    @Test
    void aUserTheServiceDoesNotAllowIsRefusedNamingServiceAndUser() throws Exception {
        Path conf = conf("  guarded { endpoint = \"tcp://127.0.0.1:0\", scope = system, allow { users = [nobody] } }");
        daemon(conf);
        Process app = procs.mancom("serve", "--config", conf.toString(), "--ready-timeout", "20");
        assertThat(app.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = procs.stderr(app);
        assertThat(app.exitValue()).as(err).isEqualTo(Main.FAILURE);
        String me = System.getProperty("user.name");
        assertThat(err).contains("PERMISSION_DENIED").contains("'guarded'").contains("user " + me);
    }

    @Test
    void reloadMovesATcpServiceToAnotherPortAndKeepsTheOthersConnections() throws Exception {
        int before = freePort();
        String other = "  other { endpoint = \"tcp://127.0.0.1:0\", scope = system }";
        Path conf = conf("  moving { endpoint = \"tcp://127.0.0.1:" + before + "\", scope = system }\n" + other);
        daemon(conf);
        serve(conf);
        Await.until("serve attached both", () -> attached("moving", 1) && attached("other", 1));
        int otherPort = Integer.parseInt(service("other").get("endpoint").asText().replaceAll(".*:", ""));
        assertThat(roundTrip(before, "to the old port".getBytes(StandardCharsets.US_ASCII), 0))
                .asString().isEqualTo("to the old port");

        try (Socket kept = new Socket("127.0.0.1", otherPort)) {
            kept.setSoTimeout(30_000);
            kept.getOutputStream().write("one".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(kept.getInputStream().readNBytes(3), StandardCharsets.US_ASCII)).isEqualTo("one");

            int after = freePort();
            conf("  moving { endpoint = \"tcp://127.0.0.1:" + after + "\", scope = system }\n" + other);
            Cli.Result r = Cli.run("daemon", "reload", "--config", conf.toString());
            assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
            JsonNode report = JSON.readTree(r.out());
            assertThat(report.get("restarted").toString()).isEqualTo("[\"moving\"]");
            assertThat(report.get("kept").toString()).isEqualTo("[\"other\"]");

            // The process re-attaches by itself and serves the new port; the old one is gone.
            Await.until("serve re-attached the moved service", () -> attached("moving", 1));
            assertThat(roundTrip(after, "to the new port".getBytes(StandardCharsets.US_ASCII), 0))
                    .asString().isEqualTo("to the new port");
            assertThatRefused(before);
            // The other service's connection lives on, both ways.
            kept.getOutputStream().write("two".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(kept.getInputStream().readNBytes(3), StandardCharsets.US_ASCII)).isEqualTo("two");
        }
    }

    private static void assertThatRefused(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            throw new AssertionError("port " + port + " still accepts");
        } catch (java.net.ConnectException refused) {
            // as it should
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
