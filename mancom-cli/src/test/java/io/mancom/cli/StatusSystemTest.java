package io.mancom.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.testkit.Await;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The system-wide front-ends against real processes: two {@code mancom serve} JVMs sharing a
 * runtime directory, queried by {@code mancom status} (table, {@code --json}, {@code --watch},
 * {@code --events}, {@code --web} in headless Chromium), and the metrics listener checked by
 * {@code promtool} and scraped by a real Prometheus server. The tools are Debian's
 * ({@code apt-get install prometheus chromium}); without them those tests skip, under
 * {@code CI=true} they fail.
 *
 * <p>The two processes live for the whole class (a JVM start costs seconds on a busy machine);
 * the first test checks absolute byte counts, the later ones what their own traffic added.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(180)
class StatusSystemTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LISTING = Pattern.compile("^\\s+(\\S+)\\s+\\S+\\s+tcp://127\\.0\\.0\\.1:(\\d+)$");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** One directory for the class (runtime dir, configs, logs); JUnit removes it after the class. */
    private Path dir;
    private Path run;
    private final List<Process> processes = new ArrayList<>();
    private final java.util.Map<Process, Path> stderr = new java.util.HashMap<>();
    private Process alpha;
    private Process beta;
    private int echoPort;
    private int sinkPort;
    private int telemetryPort;
    private int metricsPort;
    /** The echo connection the first test leaves open, so the channel rows have a channel. */
    private Socket echoClient;

    @BeforeAll
    void startTwoServeProcesses(@TempDir Path tmp) throws Exception {
        dir = tmp;
        run = dir.resolve("run");
        metricsPort = freePort();
        Path a = Files.writeString(dir.resolve("alpha.conf"), String.join("\n",
                "mancom.runtime-dir = \"" + run + "\"",
                "mancom.services {",
                "  echo { endpoint = \"tcp://127.0.0.1:0\" }",
                "  sink { endpoint = \"tcp://127.0.0.1:0\", handler = discard }",
                "}", ""));
        Path b = Files.writeString(dir.resolve("beta.conf"), String.join("\n",
                "mancom.runtime-dir = \"" + run + "\"",
                "mancom.metrics.listen = \"127.0.0.1:" + metricsPort + "\"",
                "mancom.services.telemetry { endpoint = \"tcp://127.0.0.1:0\" }", ""));
        alpha = mancom("alpha", "serve", "--config", a.toString());
        beta = mancom("beta", "serve", "--config", b.toString());
        List<String> la = awaitLine(alpha, "Serving until interrupted");
        List<String> lb = awaitLine(beta, "Serving until interrupted");
        echoPort = port(la, "echo");
        sinkPort = port(la, "sink");
        telemetryPort = port(lb, "telemetry");
    }

    @AfterAll
    void stop() throws Exception {
        if (echoClient != null) {
            echoClient.close();
        }
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    @Order(1)
    void jsonListsBothProcessesWithTheirServicesAndExactByteCounts() throws Exception {
        echoClient = new Socket("127.0.0.1", echoPort);
        echoClient.getOutputStream().write(new byte[12_345]);
        assertThat(echoClient.getInputStream().readNBytes(12_345)).hasSize(12_345);
        try (Socket s = new Socket("127.0.0.1", sinkPort)) {
            s.getOutputStream().write(new byte[54_321]);
        }
        // The discard service has no answer to wait for: its count is exact once it got there.
        Await.until("sink counted 54321 bytes", () -> service(status(), alpha.pid(), "sink").path("bytesIn").asLong() == 54_321);

        Cli.Result r = Cli.run("status", "--json", "--runtime-dir", run.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode doc = JSON.readTree(r.out());
        assertThat(doc.get("runtimeDir").asText()).isEqualTo(run.toString());
        Set<Long> pids = new HashSet<>();
        doc.get("processes").forEach(p -> pids.add(p.get("pid").asLong()));
        assertThat(pids).containsExactlyInAnyOrder(alpha.pid(), beta.pid());

        JsonNode echo = service(doc, alpha.pid(), "echo");
        assertThat(echo.get("state").asText()).isEqualTo("LISTENING");
        assertThat(echo.get("bytesIn").asLong()).isEqualTo(12_345);
        assertThat(echo.get("bytesOut").asLong()).isEqualTo(12_345);
        assertThat(echo.get("connectionsOpen").asInt()).isEqualTo(1);
        JsonNode sink = service(doc, alpha.pid(), "sink");
        assertThat(sink.get("bytesIn").asLong()).isEqualTo(54_321);
        assertThat(sink.get("bytesOut").asLong()).isZero();
        assertThat(sink.get("acceptedTotal").asLong()).isEqualTo(1);
        JsonNode telemetry = service(doc, beta.pid(), "telemetry");
        assertThat(telemetry.get("bytesIn").asLong()).isZero();
        assertThat(telemetry.get("bound").asText()).isEqualTo("tcp://127.0.0.1:" + telemetryPort);

        JsonNode channel = process(doc, alpha.pid()).get("channels").get(0);
        assertThat(channel.get("service").asText()).isEqualTo("echo");
        assertThat(channel.get("kind").asText()).isEqualTo("TCP");
        assertThat(channel.get("bytesIn").asLong()).isEqualTo(12_345);
        assertThat(channel.get("remote").asText()).isEqualTo("tcp://127.0.0.1:" + echoClient.getLocalPort());

        // --service and -p narrow the document.
        JsonNode only = JSON.readTree(Cli.run("status", "--json", "--runtime-dir", run.toString(), "--service", "sink").out());
        assertThat(only.get("processes")).hasSize(1);
        assertThat(only.get("processes").get(0).get("services")).hasSize(1);
        JsonNode byPid = JSON.readTree(Cli.run("status", "--json", "--runtime-dir", run.toString(), "-p",
                Long.toString(beta.pid())).out());
        assertThat(byPid.get("processes")).hasSize(1);
        assertThat(byPid.get("processes").get(0).get("pid").asLong()).isEqualTo(beta.pid());
    }

    @Test
    @Order(2)
    void theTableHasARowPerServiceAndChannelInAHundredColumnsAndStaleSocketsGo() throws Exception {
        // A killed runtime leaves its socket file behind; pid_max is at most 2^22, so this one is dead.
        Path stale = run.resolve("proc").resolve("99999999.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(stale));
        }
        Cli.Result r = Cli.run("status", "--runtime-dir", run.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(stale).doesNotExist();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(100));
        assertThat(lines.get(0)).containsSubsequence("PID", "PROCESS", "SERVICE", "TYPE", "ENDPOINT", "STATE", "PEERS",
                "IN", "OUT", "RATE", "ERRORS");
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith(Long.toString(alpha.pid()))
                .containsSubsequence("Main", "echo", "tcp", "127.0.0.1:" + echoPort, "listen", "1", "12.1K", "12.1K"));
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .containsSubsequence("#", "tcp", "127.0.0.1:" + echoClient.getLocalPort(), "open", "12.1K", "12.1K"));
        assertThat(lines).anySatisfy(l -> assertThat(l).containsSubsequence("sink", "127.0.0.1:" + sinkPort, "53.0K"));
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith(Long.toString(beta.pid())).contains("telemetry"));
        // The built-in demo service of each serve is idle and untouched: listed with --all only.
        assertThat(r.out()).doesNotContain("demo");
        assertThat(Cli.run("status", "--runtime-dir", run.toString(), "--all").out()).contains("demo");

        String onlyBeta = Cli.run("status", "--runtime-dir", run.toString(), "-p", Long.toString(beta.pid())).out();
        assertThat(onlyBeta).contains("telemetry").doesNotContain("echo");
        String onlySink = Cli.run("status", "--runtime-dir", run.toString(), "--service", "sink").out();
        assertThat(onlySink).contains("sink").doesNotContain("echo", "telemetry");

        Cli.Result none = Cli.run("status", "--runtime-dir", dir.resolve("nothing-here").toString());
        assertThat(none.exitCode()).isZero();
        assertThat(none.out()).startsWith("No ManCom process in");
    }

    @Test
    @Order(3)
    void watchRedrawsWithRatesFromSuccessiveSnapshots() {
        Cli.Result r = Cli.run("status", "--watch", "--count", "2", "--runtime-dir", run.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        // Each redraw clears the screen (ANSI home + erase) and prints the header and the table.
        assertThat(r.out().split("\033\\[H\033\\[2J", -1)).hasSize(3);
        assertThat(r.out().split("processes in " + Pattern.quote(run.toString()), -1)).hasSize(3);
        // Nothing moved between the two redraws: the second's rates are 0/s.
        String second = r.out().substring(r.out().lastIndexOf("\033[H"));
        assertThat(second.lines().filter(l -> l.contains("echo")).findFirst().orElseThrow()).endsWith("0/s  -");
    }

    @Test
    @Order(4)
    void eventsTailsEveryProcess() throws Exception {
        Process tail = mancom("events", "status", "--events", "--count", "2", "--runtime-dir", run.toString(),
                "--service", "telemetry");
        awaitStderr(tail, "following the events of 2 processes");
        try (Socket s = new Socket("127.0.0.1", telemetryPort)) {
            s.getOutputStream().write(new byte[10]);
            assertThat(s.getInputStream().readNBytes(10)).hasSize(10);
        }
        assertThat(tail.waitFor(30, TimeUnit.SECONDS)).as("the tail ended after 2 events").isTrue();
        List<String> lines = new String(tail.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).containsSubsequence(Long.toString(beta.pid()), "open", "telemetry", "tcp");
        assertThat(lines.get(1)).containsSubsequence(Long.toString(beta.pid()), "close", "telemetry", "in 10 out 10",
                "closed by the peer");
    }

    @Test
    @Order(5)
    @SuppressWarnings("unchecked")
    void aRealPrometheusScrapesTheMetricsListener() throws Exception {
        Path promtool = tool("promtool", "prometheus");
        Path prometheus = tool("prometheus", "prometheus");
        try (Socket s = new Socket("127.0.0.1", telemetryPort)) {
            s.getOutputStream().write(new byte[4242]);
            assertThat(s.getInputStream().readNBytes(4242)).hasSize(4242);
        }
        long expected = service(status(), beta.pid(), "telemetry").path("bytesIn").asLong();
        assertThat(expected).isGreaterThanOrEqualTo(4242);

        try (Socket s = new Socket("127.0.0.1", telemetryPort)) { // a reset: one sample of mancom_errors_total
            s.setSoLinger(true, 0);
        }
        URI metrics = URI.create("http://127.0.0.1:" + metricsPort + "/metrics");
        HttpResponse<String>[] got = new HttpResponse[1];
        // The reset reaches the runtime's loop a moment after close() returns here.
        Await.until("an error sample", () -> {
            try {
                got[0] = HTTP.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString());
                return got[0].body().contains("mancom_errors_total{");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        HttpResponse<String> scrape = got[0];
        assertThat(scrape.statusCode()).isEqualTo(200);
        assertThat(scrape.headers().firstValue("content-type").orElse("")).startsWith("text/plain; version=0.0.4");
        assertThat(scrape.body()).contains("mancom_received_bytes_total{service=\"telemetry\",transport=\"tcp\"} "
                + expected + ".0");
        for (String family : GrafanaDashboardTest.queried()) { // the dashboard's names are the real ones
            assertThat(scrape.body()).contains("\n" + family + "{");
        }
        Process check = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (OutputStream in = check.getOutputStream()) {
            in.write(scrape.body().getBytes(StandardCharsets.UTF_8));
        }
        String said = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(check.exitValue()).as("promtool check metrics said:\n%s", said).isZero();
        // Read-only, and only the metrics.
        assertThat(HTTP.send(HttpRequest.newBuilder(metrics).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(405);
        assertThat(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/status")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);

        int webPort = freePort();
        Path config = Files.writeString(dir.resolve("prometheus.yml"), String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "scrape_configs:",
                "  - job_name: mancom",
                "    static_configs:",
                "      - targets: ['127.0.0.1:" + metricsPort + "']", ""));
        Process server = new ProcessBuilder(prometheus.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + webPort)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        processes.add(server);
        try {
            URI query = URI.create("http://127.0.0.1:" + webPort + "/api/v1/query?query=" + URLEncoder.encode(
                    "mancom_received_bytes_total{service=\"telemetry\"}", StandardCharsets.UTF_8));
            String[] last = {""};
            Await.until("Prometheus answers the query with " + expected, Duration.ofSeconds(90), () -> {
                try {
                    HttpResponse<String> a = HTTP.send(HttpRequest.newBuilder(query).build(),
                            HttpResponse.BodyHandlers.ofString());
                    last[0] = a.body();
                    JsonNode result = JSON.readTree(a.body()).path("data").path("result");
                    return a.statusCode() == 200 && result.size() == 1
                            && result.get(0).path("value").get(1).asText().equals(Long.toString(expected));
                } catch (IOException notUpYet) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            });
            JsonNode series = JSON.readTree(last[0]).path("data").path("result").get(0).path("metric");
            assertThat(series.path("job").asText()).isEqualTo("mancom");
            assertThat(series.path("transport").asText()).isEqualTo("tcp");
        } finally {
            server.destroy();
            server.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(6)
    void theWebPageInHeadlessChromiumShowsTheServicesAndRisingCounts() throws Exception {
        Path chromium = tool("chromium", "chromium");
        Process web = mancom("web", "status", "--web", "--listen", "127.0.0.1:0", "--runtime-dir", run.toString());
        String line = awaitLine(web, "mancom status: the live page").get(0);
        Matcher m = Pattern.compile("(http://127\\.0\\.0\\.1:\\d+/)").matcher(line);
        assertThat(m.find()).as(line).isTrue();
        URI page = URI.create(m.group(1));
        // Read-only.
        assertThat(HTTP.send(HttpRequest.newBuilder(page).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(405);
        assertThat(HTTP.send(HttpRequest.newBuilder(page).build(), HttpResponse.BodyHandlers.ofString()).body())
                .contains("getContext(\"2d\")").doesNotContain("<script src", "https://");

        long first = bytesInShown(chromium, page, alpha.pid(), "echo");
        assertThat(first).isEqualTo(service(status(), alpha.pid(), "echo").path("bytesIn").asLong());
        echoClient.getOutputStream().write(new byte[3000]);
        assertThat(echoClient.getInputStream().readNBytes(3000)).hasSize(3000);
        long second = bytesInShown(chromium, page, alpha.pid(), "echo");
        assertThat(second).isEqualTo(first + 3000);

        // The screenshot of docs/monitoring.md, taken while bytes flow (target/monitoring-web.png).
        AtomicBoolean flowing = new AtomicBoolean(true);
        Thread traffic = new Thread(() -> {
            try (Socket s = new Socket("127.0.0.1", telemetryPort)) {
                byte[] chunk = new byte[16 * 1024];
                InputStream back = s.getInputStream();
                while (flowing.get()) {
                    s.getOutputStream().write(chunk);
                    back.readNBytes(chunk.length);
                }
            } catch (IOException e) {
                // the test is over
            }
        });
        traffic.start();
        Path png = Path.of("target", "monitoring-web.png").toAbsolutePath();
        Files.deleteIfExists(png);
        try {
            chromium(chromium, "--window-size=1200,800", "--virtual-time-budget=5000", "--screenshot=" + png, page.toString());
        } finally {
            flowing.set(false);
            traffic.join(10_000);
        }
        byte[] head = Files.readAllBytes(png);
        assertThat(head.length).isGreaterThan(10_000);
        assertThat(new String(head, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    /** Loads the page in headless Chromium and reads the byte count its row of {@code service} shows. */
    private long bytesInShown(Path chromium, URI page, long pid, String service) throws Exception {
        String dom = chromium(chromium, "--virtual-time-budget=3000", "--dump-dom", page.toString());
        Matcher row = Pattern.compile("<tr class=\"service[^\"]*\" id=\"svc-" + pid + "/" + service
                + "\" data-pid=\"" + pid + "\" data-service=\"" + service + "\" data-bytes-in=\"(\\d+)\"").matcher(dom);
        assertThat(row.find()).as("a row for %s of %s in the DOM:\n%s", service, pid, dom).isTrue();
        assertThat(dom).contains("<td>" + service + "</td>", "plot-" + pid + "/" + service);
        return Long.parseLong(row.group(1));
    }

    private String chromium(Path chromium, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + dir.resolve("chromium")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("chromium.log").toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("chromium ended").isTrue();
        assertThat(p.exitValue()).as("chromium: %s", Files.readString(dir.resolve("chromium.log"))).isZero();
        return out;
    }

    // ---- helpers ----

    /** The snapshot {@code mancom status --json} prints now. */
    private JsonNode status() {
        Cli.Result r = Cli.run("status", "--json", "--runtime-dir", run.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        try {
            return JSON.readTree(r.out());
        } catch (IOException e) {
            throw new AssertionError(r.out(), e);
        }
    }

    private static JsonNode process(JsonNode doc, long pid) {
        for (JsonNode p : doc.get("processes")) {
            if (p.get("pid").asLong() == pid) {
                return p;
            }
        }
        throw new AssertionError("no process " + pid + " in " + doc);
    }

    private static JsonNode service(JsonNode doc, long pid, String name) {
        for (JsonNode s : process(doc, pid).get("services")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no service " + name + " in process " + pid);
    }

    /** A tool of Debian's: its path, or the test skips (and fails under CI=true) when it is missing. */
    static Path tool(String name, String debianPackage) {
        Path p = Path.of("/usr/bin", name);
        if (!Files.isExecutable(p)) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(name + " is needed for this test (apt-get install " + debianPackage + ")");
            }
            org.junit.jupiter.api.Assumptions.abort(name + " is not installed (Debian: " + debianPackage + "): skipped");
        }
        return p;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static int port(List<String> listing, String service) {
        for (String l : listing) {
            Matcher m = LISTING.matcher(l);
            if (m.matches() && m.group(1).equals(service)) {
                return Integer.parseInt(m.group(2));
            }
        }
        throw new AssertionError("no port of " + service + " in " + listing);
    }

    /** {@code mancom ARGS} in a new JVM on this test's class path; standard error to a file. */
    private Process mancom(String name, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        Path err = dir.resolve(name + ".err");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        processes.add(p);
        stderr.put(p, err);
        return p;
    }

    /** Reads standard output up to a line starting with {@code start}; returns the lines read. */
    private List<String> awaitLine(Process p, String start) throws IOException {
        List<String> lines = new ArrayList<>();
        BufferedReader r = p.inputReader(StandardCharsets.UTF_8);
        for (String line; (line = r.readLine()) != null; ) {
            lines.add(line);
            if (line.startsWith(start)) {
                return start.startsWith("mancom status") ? List.of(line) : lines;
            }
        }
        throw new AssertionError("the process ended before \"" + start + "\": " + lines + "\n" + errOf(p));
    }

    private void awaitStderr(Process p, String text) {
        Await.until("\"" + text + "\" on standard error", () -> errOf(p).contains(text) || !p.isAlive());
        assertThat(errOf(p)).contains(text);
    }

    private String errOf(Process p) {
        try {
            return Files.readString(stderr.get(p));
        } catch (IOException e) {
            return "(standard error unreadable: " + e + ")";
        }
    }
}
