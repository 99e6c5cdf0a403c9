package io.mancom.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
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
import java.time.Duration;
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

    private PtyPair pty;

    @AfterEach
    void tearDown() throws Exception {
        if (procs != null) {
            procs.close();
        }
        if (pty != null) {
            pty.close();
        }
    }

    private Path socket() {
        return dir.resolve("run/mancomd.sock");
    }

    private Path conf(String services) throws IOException {
        return conf("mancom.conf", services);
    }

    private Path conf(String file, String services) throws IOException {
        return Files.writeString(dir.resolve(file), String.join("\n",
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
        return get(socket(), "/status");
    }

    /** GET ROUTE over a control socket, the body as JSON. */
    private static JsonNode get(Path socket, String route) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(("GET " + route + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
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

    private int handedOver(String name) {
        try {
            return service(name).get("handedOver").asInt();
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
     * Connects, writes {@code payload}, reads {@code skip} bytes of greeting and then the echo.
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

    /** A socat pty pair in {@code dir/pty}; skipped (failed when CI=true) without socat. */
    private PtyPair pty() throws IOException {
        Processes.requireTool("socat");
        pty = PtyPair.start(dir.resolve("pty"));
        return pty;
    }

    private static String serial(Path end, String name, String extra) {
        return "  " + name + " { endpoint = \"serial://" + end + "\", " + extra + " }\n";
    }

    /** The pid of the one process attached to {@code service}. */
    private long attachedPid(String service) throws IOException {
        JsonNode a = service(service).get("attached");
        assertThat(a.size()).as("processes attached to %s: %s", service, a).isEqualTo(1);
        return a.get(0).get("pid").asLong();
    }

    /** GET /status of a process's own control socket ({@code <runtime-dir>/proc/<pid>.sock}). */
    private JsonNode processStatus(long pid) throws IOException {
        return get(dir.resolve("run/proc/" + pid + ".sock"), "/status");
    }

    /** The bytes in and out a process's status counts for {@code service} (zeros when it has none). */
    private static long[] bytes(JsonNode status, String service) {
        for (JsonNode s : status.get("services")) {
            if (s.get("name").asText().equals(service)) {
                return new long[] {s.get("bytesIn").asLong(), s.get("bytesOut").asLong()};
            }
        }
        return new long[2];
    }

    /**
     * Writes {@code payload} on {@code c} from a thread of its own while reading the echo here (a
     * pty's and a mux stream's buffers are smaller than the payload); returns what came back.
     */
    private static byte[] echo(BlockingConnection c, byte[] payload) throws Exception {
        ExecutorService w = Executors.newSingleThreadExecutor();
        try {
            Future<?> written = w.submit(() -> {
                for (int off = 0; off < payload.length; off += 4096) {
                    c.write(payload, off, Math.min(4096, payload.length - off));
                }
                return null;
            });
            byte[] back = new byte[payload.length];
            for (int off = 0; off < back.length; ) {
                int n = c.read(back, off, back.length - off, Duration.ofSeconds(60));
                assertThat(n).as("echo ended after %d of %d bytes", off, back.length).isPositive();
                off += n;
            }
            written.get(60, TimeUnit.SECONDS);
            return back;
        } finally {
            w.shutdownNow();
        }
    }

    @Test
    void twoProcessesServeTwoServicesOnOneMuxSerialLineAtOnce() throws Exception {
        PtyPair pty = pty();
        String system = "mux = on, scope = system";
        Path both = conf(serial(pty.a(), "telemetry", system) + serial(pty.a(), "control", system));
        Process d = daemon(both);
        Process p1 = serve(conf("telemetry.conf", serial(pty.a(), "telemetry", system)));
        Process p2 = serve(conf("control.conf", serial(pty.a(), "control", system)));
        Await.until("each process attached its service", () -> attached("telemetry", 1) && attached("control", 1));
        assertThat(attachedPid("telemetry")).isEqualTo(p1.pid());
        assertThat(attachedPid("control")).isEqualTo(p2.pid());
        assertThat(service("telemetry").get("carry").asText()).isEqualTo("mux");

        // The far end of the line: this JVM's runtime, its own scope = process mux = on link on
        // the other pty end; role auto on both ends of the symmetric line (a random draw decides).
        Path far = Files.writeString(dir.resolve("far.conf"), String.join("\n",
                "mancom.control = off",
                "mancom.services {",
                serial(pty.b(), "telemetry", "mux = on, mux.role = auto"),
                serial(pty.b(), "control", "mux = on, mux.role = auto"), "}", ""));
        byte[] toTelemetry = new byte[200 * 1024];
        byte[] toControl = new byte[150 * 1024];
        new Random(1).nextBytes(toTelemetry);
        new Random(2).nextBytes(toControl);
        try (ManCom device = ManCom.builder().configFile(far).start();
             BlockingConnection t = device.connect("telemetry", Duration.ofSeconds(60));
             BlockingConnection c = device.connect("control", Duration.ofSeconds(60))) {
            ExecutorService both2 = Executors.newFixedThreadPool(2);
            try {
                Future<byte[]> tBack = both2.submit(() -> echo(t, toTelemetry));
                Future<byte[]> cBack = both2.submit(() -> echo(c, toControl));
                assertThat(tBack.get(120, TimeUnit.SECONDS)).as("telemetry's echo; daemon:\n" + procs.stderr(d))
                        .isEqualTo(toTelemetry);
                assertThat(cBack.get(120, TimeUnit.SECONDS)).as("control's echo").isEqualTo(toControl);
            } finally {
                both2.shutdownNow();
            }
            // Each service was served by its own process: its runtime counted the bytes, the other's none.
            long[] p1Telemetry = bytes(processStatus(p1.pid()), "telemetry");
            long[] p2Control = bytes(processStatus(p2.pid()), "control");
            assertThat(p1Telemetry).containsExactly(toTelemetry.length, toTelemetry.length);
            assertThat(p2Control).containsExactly(toControl.length, toControl.length);
            assertThat(bytes(processStatus(p1.pid()), "control")).containsExactly(0, 0);
            assertThat(bytes(processStatus(p2.pid()), "telemetry")).containsExactly(0, 0);
        }
        assertThat(service("telemetry").get("handedOver").asInt()).isEqualTo(1);
        assertThat(service("control").get("handedOver").asInt()).isEqualTo(1);
    }

    @Test
    void reloadMovesAServiceFromTcpToAPtyAndKeepsTheOthersConnections() throws Exception {
        PtyPair pty = pty();
        int port = freePort();
        String staying = "  staying { endpoint = \"tcp://127.0.0.1:0\", scope = system }\n";
        Path conf = conf("  moving { endpoint = \"tcp://127.0.0.1:" + port + "\", scope = system }\n" + staying);
        Process d = daemon(conf);
        Process app = serve(conf);
        Await.until("serve attached both", () -> attached("moving", 1) && attached("staying", 1));
        int stayingPort = Integer.parseInt(service("staying").get("endpoint").asText().replaceAll(".*:", ""));
        assertThat(roundTrip(port, "on tcp".getBytes(StandardCharsets.US_ASCII), 0)).asString().isEqualTo("on tcp");

        try (Socket kept = new Socket("127.0.0.1", stayingPort)) {
            kept.setSoTimeout(30_000);
            kept.getOutputStream().write("one".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(kept.getInputStream().readNBytes(3), StandardCharsets.US_ASCII)).isEqualTo("one");

            conf(serial(pty.a(), "moving", "scope = system") + staying);
            Cli.Result r = Cli.run("daemon", "reload", "--config", conf.toString());
            assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
            JsonNode report = JSON.readTree(r.out());
            assertThat(report.get("restarted").toString()).isEqualTo("[\"moving\"]");
            assertThat(report.get("kept").toString()).isEqualTo("[\"staying\"]");
            assertThatRefused(port);

            // The process re-attaches by itself and gets the device carry (a serial line with mux
            // off is handed over); the line's bytes come back.
            Await.until("serve re-attached the moved service", () -> attached("moving", 1));
            assertThat(service("moving").get("carry").asText()).isEqualTo("device");
            assertThat(attachedPid("moving")).isEqualTo(app.pid());
            byte[] payload = new byte[64 * 1024];
            new Random(3).nextBytes(payload);
            assertThat(lineEcho(pty.b(), payload)).as("the line's echo; daemon:\n" + procs.stderr(d)
                    + "\nserve:\n" + procs.stderr(app)).isEqualTo(payload);

            // The other service's connection lives on, both ways, byte-exact.
            byte[] more = new byte[32 * 1024];
            new Random(4).nextBytes(more);
            kept.getOutputStream().write(more);
            assertThat(kept.getInputStream().readNBytes(more.length)).isEqualTo(more);
        }
    }

    /**
     * Writes {@code payload} to the pty end {@code end} as plain file I/O (a writer thread) and
     * reads what comes back on it; the read gives up after 60 s of silence.
     */
    @Test
    void killMinusNineOfTheProcessServingALineGivesTheLineWithTheBytesWaitingOnItToTheNext() throws Exception {
        PtyPair pty = pty();
        Path conf = conf(serial(pty.a(), "line", "scope = system")); // mux off: the line is handed over
        Process d = daemon(conf);
        Process app = serve(conf);
        Await.until("serve has the line", () -> attached("line", 1) && handedOver("line") == 1);
        assertThat(service("line").get("carry").asText()).isEqualTo("device");
        byte[] first = new byte[64 * 1024];
        new Random(5).nextBytes(first);
        assertThat(lineEcho(pty.b(), first)).as("the line's echo; daemon:\n" + procs.stderr(d)
                + "\nserve:\n" + procs.stderr(app)).isEqualTo(first);

        Processes.kill("KILL", app.pid());
        assertThat(app.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Await.until("the line is held", () -> attached("line", 0) && held("line") == 1);
        byte[] waiting = new byte[4096]; // what the tty and socat hold without a reader
        new Random(6).nextBytes(waiting);
        try (var out = Files.newOutputStream(pty.b()); InputStream in = Files.newInputStream(pty.b())) {
            out.write(waiting); // while no process serves the line
            out.flush();
            Process again = serve(conf);
            ExecutorService io = Executors.newSingleThreadExecutor();
            try {
                Future<byte[]> back = io.submit(() -> in.readNBytes(waiting.length));
                assertThat(back.get(60, TimeUnit.SECONDS)).as("the echo of every byte that waited; daemon:\n"
                        + procs.stderr(d) + "\nrestarted serve:\n" + procs.stderr(again)).isEqualTo(waiting);
            } finally {
                io.shutdownNow();
            }
        }
        assertThat(lineEcho(pty.b(), first)).as("the line after the restart").isEqualTo(first);
        Await.until("the restarted process adopted the line", () -> handedOver("line") == 2);
        assertThat(held("line")).isZero();
    }

    /**
     * Writes {@code payload} on the pty end in 1 KiB steps, reading each step's echo before the next:
     * with more in flight, socat (one thread, blocking writes) and an echoing process that stops
     * reading while its write queue is full can hold each other up for good, a deadlock of the
     * harness, not of the line.
     */
    private static byte[] lineEcho(Path end, byte[] payload) throws Exception {
        ExecutorService io = Executors.newSingleThreadExecutor();
        try (var out = Files.newOutputStream(end); InputStream in = Files.newInputStream(end)) {
            return io.submit(() -> {
                java.io.ByteArrayOutputStream back = new java.io.ByteArrayOutputStream();
                for (int off = 0; off < payload.length; off += 1024) {
                    int n = Math.min(1024, payload.length - off);
                    out.write(payload, off, n);
                    out.flush();
                    back.writeBytes(in.readNBytes(n));
                }
                return back.toByteArray();
            }).get(60, TimeUnit.SECONDS);
        } finally {
            io.shutdownNow();
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
