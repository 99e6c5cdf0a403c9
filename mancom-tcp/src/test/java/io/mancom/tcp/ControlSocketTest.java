package io.mancom.tcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The control socket of a runtime over the real Unix socket: from curl (as a person debugging
 * would) and from Java; its file modes, the clean-up of stale sockets, and the switch that turns
 * it off.
 */
class ControlSocketTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<ManCom> runtimes = new ArrayList<>();
    @TempDir
    Path tmp;

    @AfterEach
    void close() {
        runtimes.forEach(ManCom::close);
    }

    private ManComRuntime start(Path runtimeDir, String extra) {
        ManCom m = TestManCom.start("mancom.services.demo = null\n"
                + "mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"\n"
                + "mancom.runtime-dir = \"" + runtimeDir + "\"\n" + extra);
        runtimes.add(m);
        return (ManComRuntime) m;
    }

    private static Path socket(ManComRuntime m) {
        return m.controlSocket().orElseThrow(() -> new AssertionError("no control socket"));
    }

    /** Sends {@code n} bytes to the echo service and reads them back; returns once the connection is closed. */
    private static void echo(ManCom m, int n) throws IOException {
        int port = ((TcpAddress) m.boundEndPoint("echo").orElseThrow().address()).port();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port));
            s.getOutputStream().write(new byte[n]);
            assertThat(s.getInputStream().readNBytes(n)).hasSize(n);
        }
    }

    private static ManComRuntime serving(ManComRuntime m) throws IOException {
        m.registerDataReceiver("echo", (conn, data) -> conn.write(data));
        m.awaitReady(T);
        return m;
    }

    @Test
    void filesAreOwnerOnlyAndRemovedAtClose() throws Exception {
        Path dir = tmp.resolve("run").resolve("mancom");
        ManComRuntime m = start(dir, "");
        Path sock = socket(m);
        assertThat(sock).isEqualTo(dir.resolve("proc").resolve(ProcessHandle.current().pid() + ".sock"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("proc"))))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-------");
        // A second runtime of this process gets a socket of its own.
        ManComRuntime second = start(dir, "");
        assertThat(socket(second).getFileName().toString()).isEqualTo(ProcessHandle.current().pid() + "-2.sock");
        m.close();
        assertThat(sock).doesNotExist();
        assertThat(UnixHttp.get(socket(second), "/status").code()).isEqualTo(200);
    }

    @Test
    void offMeansNoSocket() {
        Path dir = tmp.resolve("off");
        ManComRuntime m = start(dir, "mancom.control = off");
        assertThat(m.controlSocket()).isEmpty();
        assertThat(dir.resolve("proc")).doesNotExist();
        ManComRuntime block = start(dir, "mancom.control.enabled = off");
        assertThat(block.controlSocket()).isEmpty();
    }

    @Test
    void staleSocketsOfDeadProcessesAreRemoved() throws Exception {
        Path dir = tmp.resolve("stale");
        Path proc = Files.createDirectories(dir.resolve("proc"));
        // pid_max is at most 2^22: this process cannot exist.
        Path dead = proc.resolve("99999999.sock");
        Path deadSecond = proc.resolve("99999998-2.sock");
        Path alive = proc.resolve("1.sock"); // init lives
        // A dead runtime's pid may now be a thread's id: /proc answers for those too.
        String tid;
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            long me = ProcessHandle.current().pid();
            tid = tasks.map(t -> t.getFileName().toString()).filter(t -> !t.equals(Long.toString(me)))
                    .findFirst().orElseThrow();
        }
        Path thread = proc.resolve(tid + ".sock");
        for (Path p : List.of(dead, deadSecond, alive, thread)) {
            try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                s.bind(UnixDomainSocketAddress.of(p)); // closing leaves the file, as a killed process does
            }
        }
        Path mine = socket(start(dir, ""));
        assertThat(dead).doesNotExist();
        assertThat(deadSecond).doesNotExist();
        assertThat(thread).doesNotExist();
        assertThat(alive).exists();
        assertThat(mine).exists();
    }

    @Test
    void statusMetricsAndEventsFromJava() throws Exception {
        ManComRuntime m = serving(start(tmp.resolve("java"), ""));
        Path sock = socket(m);
        try (BufferedReader events = UnixHttp.events(sock)) {
            echo(m, 1000);
            JsonNode open = nextEvent(events);
            assertThat(open.get("event").asText()).isEqualTo("open");
            assertThat(open.get("service").asText()).isEqualTo("echo");
            JsonNode close = nextEvent(events);
            assertThat(close.get("event").asText()).isEqualTo("close");
            assertThat(close.get("channel").get("id").asLong()).isEqualTo(open.get("channel").get("id").asLong());
            assertThat(close.get("channel").get("bytesIn").asLong()).isEqualTo(1000);
            assertThat(close.get("cause").asText()).isEqualTo("closed by the peer");
        }

        UnixHttp.Answer status = UnixHttp.get(sock, "/status");
        assertThat(status.code()).isEqualTo(200);
        assertThat(status.headers()).containsIgnoringCase("content-type: application/json");
        JsonNode json = JSON.readTree(status.body());
        assertThat(json.get("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
        JsonNode echo = json.get("services").get(0);
        assertThat(echo.get("name").asText()).isEqualTo("echo");
        assertThat(echo.get("transport").asText()).isEqualTo("TCP");
        assertThat(echo.get("state").asText()).isEqualTo("LISTENING");
        assertThat(echo.get("bytesIn").asLong()).isEqualTo(1000);
        assertThat(echo.get("bytesOut").asLong()).isEqualTo(1000);
        assertThat(echo.get("endpoint").asText()).isEqualTo("tcp://127.0.0.1:0");
        assertThat(json.get("channels")).isEmpty();

        UnixHttp.Answer metrics = UnixHttp.get(sock, "/metrics");
        assertThat(metrics.code()).isEqualTo(200);
        assertThat(metrics.headers()).containsIgnoringCase("content-type: text/plain; version=0.0.4");
        assertThat(sample(metrics.body(), "mancom_received_bytes_total", "service=\"echo\",transport=\"tcp\""))
                .isEqualTo(1000);
        assertThat(sample(metrics.body(), "mancom_sent_bytes_total", "service=\"echo\",transport=\"tcp\""))
                .isEqualTo(1000);
        assertThat(sample(metrics.body(), "mancom_connections_accepted_total", "service=\"echo\",transport=\"tcp\""))
                .isEqualTo(1);
        assertThat(sample(metrics.body(), "mancom_connections_open", "service=\"echo\",transport=\"tcp\""))
                .isEqualTo(0);
        assertThat(metrics.body()).contains("# TYPE mancom_received_bytes_total counter")
                .contains("# TYPE mancom_connections_open gauge")
                .contains("# TYPE mancom_write_queue_bytes gauge")
                .doesNotContain("id=");

        UnixHttp.Answer page = UnixHttp.get(sock, "/");
        assertThat(page.code()).isEqualTo(200);
        assertThat(page.headers()).containsIgnoringCase("content-type: text/html");
        assertThat(page.body()).contains("getContext(\"2d\")", "fetch(\"status\"", "new EventSource(\"events\")").doesNotContain("<script src", "http://",
                "https://");
        assertThat(UnixHttp.get(sock, "/nothing").code()).isEqualTo(404);
    }

    @Test
    void aSubscriberThatDoesNotReadIsDroppedAndTheRuntimeGoesOn() throws Exception {
        ManComRuntime m = serving(start(tmp.resolve("slow"), ""));
        Path sock = socket(m);
        try (SocketChannel slow = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            slow.connect(UnixDomainSocketAddress.of(sock));
            slow.write(ByteBuffer.wrap("GET /events HTTP/1.1\r\nHost: m\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
            // Subscribed once the stream's hello arrives (the runtime subscribes before it answers).
            StringBuilder head = new StringBuilder();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (head.indexOf(": mancom events") < 0 && slow.read(one) > 0) {
                head.append((char) one.get(0));
                one.clear();
            }
            assertThat(head).contains(": mancom events");
            // Each connection is two events of ~600 bytes; the socket buffers and the subscriber's
            // queue (1,024 events) are full well before 1,500 connections.
            int port = ((TcpAddress) m.boundEndPoint("echo").orElseThrow().address()).port();
            for (int i = 0; i < 1500; i++) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", port));
                }
            }
            // Every event offered before the subscriber reads a byte: on a loaded machine the
            // runtime may accept the connections after the test began to read, and a reader
            // keeping up is (rightly) never dropped.
            MonitoringCountersTest.awaitTrue(() -> {
                var echo = m.status().service("echo").orElseThrow();
                return echo.acceptedTotal() == 1500 && echo.connectionsOpen() == 0;
            });
            // Dropped: what was sent can still be read, then the stream ends.
            CompletableFuture<Long> drained = CompletableFuture.supplyAsync(() -> {
                ByteBuffer buf = ByteBuffer.allocate(65536);
                long total = 0;
                try {
                    int n;
                    while ((n = slow.read(buf)) >= 0) {
                        total += n;
                        buf.clear();
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
                return total;
            });
            assertThat(drained.get(30, TimeUnit.SECONDS)).isPositive();
        }
        // The runtime still serves, and a subscriber that reads gets events.
        try (BufferedReader events = UnixHttp.events(sock)) {
            echo(m, 10);
            JsonNode e;
            do { // closes of the 1,500 may still be on their way
                e = nextEvent(events);
            } while (!e.get("event").asText().equals("open"));
            assertThat(e.get("service").asText()).isEqualTo("echo");
        }
        // Each accepted connection is counted on its own loop: the last may be counted before the others.
        MonitoringCountersTest.awaitTrue(() -> m.status().service("echo").orElseThrow().acceptedTotal() == 1501);
    }

    @Test
    void theExpositionPassesPromtool() throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        if (!Files.isExecutable(promtool) && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("promtool is needed for this test (apt-get install prometheus)");
        }
        Assumptions.assumeTrue(Files.isExecutable(promtool), "promtool is not installed (Debian: prometheus): skipped");
        ManComRuntime m = serving(start(tmp.resolve("prom"), ""));
        echo(m, 100);
        int port = ((TcpAddress) m.boundEndPoint("echo").orElseThrow().address()).port();
        try (Socket s = new Socket()) { // a reset: one sample of mancom_errors_total
            s.connect(new InetSocketAddress("127.0.0.1", port));
            s.setSoLinger(true, 0);
        }
        UnixHttp.Answer metrics;
        do { // the reset reaches the runtime's loop a moment after close() returns here
            metrics = UnixHttp.get(socket(m), "/metrics");
        } while (!metrics.body().contains("mancom_errors_total{"));
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        p.getOutputStream().write(metrics.body().getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("promtool check metrics said:\n%s\nof:\n%s", out, metrics.body()).isZero();
        assertThat(sample(metrics.body(), "mancom_errors_total", "reason=\"link_failed\",service=\"echo\"")).isEqualTo(1);
    }

    @Test
    void statusMetricsAndEventsWithCurl() throws Exception {
        boolean curl = Files.isExecutable(Path.of("/usr/bin/curl"));
        if (!curl && "true".equals(System.getenv("CI"))) {
            throw new AssertionError("curl is needed for this test (apt-get install curl)");
        }
        Assumptions.assumeTrue(curl, "curl is not installed: skipped");
        ManComRuntime m = serving(start(tmp.resolve("curl"), ""));
        Path sock = socket(m);

        Process events = new ProcessBuilder("curl", "-sN", "--max-time", "20", "--unix-socket", sock.toString(),
                "http://mancom/events").redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(events.getInputStream(), StandardCharsets.UTF_8));
            // The stream says hello first: once read, curl is subscribed and no event can be missed.
            assertThat(out.readLine()).isEqualTo(": mancom events");
            echo(m, 4096);
            CompletableFuture<JsonNode> closeEvent = CompletableFuture.supplyAsync(() -> {
                try {
                    String line;
                    while ((line = out.readLine()) != null) {
                        if (line.startsWith("data: ")) {
                            JsonNode e = JSON.readTree(line.substring(6));
                            if (e.get("event").asText().equals("close")) {
                                return e;
                            }
                        }
                    }
                    throw new AssertionError("curl's event stream ended without a close event");
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            JsonNode close = closeEvent.get(10, TimeUnit.SECONDS);
            assertThat(close.get("channel").get("bytesOut").asLong()).isEqualTo(4096);
        } finally {
            events.destroy();
            events.waitFor(5, TimeUnit.SECONDS);
        }

        JsonNode status = JSON.readTree(curl(sock, "/status"));
        assertThat(status.get("services").get(0).get("bytesIn").asLong()).isEqualTo(4096);
        String metrics = curl(sock, "/metrics");
        assertThat(sample(metrics, "mancom_received_bytes_total", "service=\"echo\",transport=\"tcp\"")).isEqualTo(4096);
    }

    private static String curl(Path sock, String route) throws Exception {
        Process p = new ProcessBuilder("curl", "-sf", "--max-time", "10", "--unix-socket", sock.toString(),
                "http://mancom" + route).start();
        String body = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("curl %s", route).isZero();
        return body;
    }

    private static JsonNode nextEvent(BufferedReader events) throws IOException {
        String line;
        while ((line = events.readLine()) != null) {
            if (line.startsWith("data: ")) {
                return JSON.readTree(line.substring(6));
            }
        }
        throw new AssertionError("the event stream ended");
    }

    /** The value of one sample in a Prometheus text exposition. */
    static double sample(String exposition, String name, String labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)$").matcher(exposition);
        if (!m.find()) {
            throw new AssertionError("no sample " + name + "{" + labels + "} in:\n" + exposition);
        }
        return Double.parseDouble(m.group(1));
    }
}
