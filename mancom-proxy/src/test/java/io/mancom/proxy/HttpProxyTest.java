package io.mancom.proxy;

import io.mancom.testkit.Await;
import io.mancom.testkit.Nginx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The proxy against a real nginx (HTTP/2 cleartext and HTTP/1.1 listeners), with real clients. */
class HttpProxyTest {
    private static final InetSocketAddress ANY_PORT = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @TempDir
    static Path dir;
    static SilentServer silent;
    static NginxUpstream nginx;

    @BeforeAll
    static void startNginx() throws IOException {
        Nginx.require();
        silent = new SilentServer();
        nginx = new NginxUpstream(dir.resolve("nginx"), silent.port());
    }

    @AfterAll
    static void stopNginx() throws IOException {
        if (nginx != null) {
            nginx.close();
        }
        if (silent != null) {
            silent.close();
        }
    }

    static ProxyServer proxy(String upstream, String... keyValues) {
        Map<String, String> values = new HashMap<>();
        values.put("upstream", upstream);
        for (int i = 0; i < keyValues.length; i += 2) {
            values.put(keyValues[i], keyValues[i + 1]);
        }
        return ProxyServer.start(ANY_PORT, ProxyConfig.of(values, "test"), 2);
    }

    static String h2c(int port) {
        return "h2c://127.0.0.1:" + port;
    }

    @Test
    void thousandClientsOverOneHttp2Connection() throws Exception {
        try (ProxyServer p = proxy(h2c(nginx.h2c))) {
            List<String> problems = ManyClients.run(p.address(), 1000, 3, Duration.ofSeconds(120));

            assertThat(problems).isEmpty();
            assertThat(nginx.requests("h2c.log", "/echo/many")).isEqualTo(3000);
            assertThat(nginx.connections("h2c.log", "/echo/many")).as("nginx's $connection of every request").hasSize(1);
            ProxyStats s = p.handler().stats();
            assertThat(s.responses()).isEqualTo(3000);
            assertThat(s.upstreamConnects()).isEqualTo(1);
            assertThat(s.errors()).isZero();
        }
    }

    @Test
    void thousandClientsOverAPoolOfHttp1Connections() throws Exception {
        try (ProxyServer p = proxy("http://127.0.0.1:" + nginx.http, "upstream-connections", "16")) {
            List<String> problems = ManyClients.run(p.address(), 1000, 3, Duration.ofSeconds(120));

            assertThat(problems).isEmpty();
            assertThat(nginx.requests("http.log", "/echo/many")).isEqualTo(3000);
            assertThat(nginx.connections("http.log", "/echo/many")).hasSizeBetween(1, 16);
            assertThat(p.handler().stats().errors()).isZero();
        }
    }

    @Test
    void aGoAwayDrainsTheConnectionAndTheNextOneCarriesOn() throws Exception {
        // nginx ends each HTTP/2 connection after 40 requests (keepalive_requests) with a GOAWAY.
        try (ProxyServer p = proxy(h2c(nginx.goAway))) {
            List<String> problems = ManyClients.run(p.address(), 100, 3, Duration.ofSeconds(120));

            assertThat(problems).isEmpty();
            assertThat(nginx.requests("goaway.log", "/echo/many")).isEqualTo(300);
            assertThat(nginx.connections("goaway.log", "/echo/many")).hasSizeGreaterThanOrEqualTo(300 / 40);
            ProxyStats s = p.handler().stats();
            assertThat(s.errors()).isZero();
            assertThat(s.upstreamLosses()).as("a drained connection is not a loss").isZero();
        }
    }

    @Test
    void moreHttp2ConnectionsOpenOnlyAsConfiguredWhenTheStreamsAreTaken() throws Exception {
        // One stream per connection there: 20 clients at once need more than one.
        try (ProxyServer p = proxy(h2c(nginx.oneStream), "upstream-connections", "4")) {
            List<String> problems = ManyClients.run(p.address(), 20, 3, Duration.ofSeconds(120));

            assertThat(problems).isEmpty();
            assertThat(nginx.connections("one.log", "/echo/many")).hasSizeBetween(2, 4);
            assertThat(p.handler().stats().errors()).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2c", "http"})
    void pipelinedChunkedAndClosingRequests(String mode) throws Exception {
        String upstream = mode.equals("h2c") ? h2c(nginx.h2c) : "http://127.0.0.1:" + nginx.http;
        try (ProxyServer p = proxy(upstream); RawHttp c = new RawHttp(p.address(), 30_000)) {
            // Three requests in one write; the upstream may answer them in any order.
            c.send(RawHttp.get("/p1-" + mode) + RawHttp.post("/echo/p2-" + mode, "second") + RawHttp.get("/p3-" + mode));
            assertThat(c.read().body()).isEqualTo("ok /p1-" + mode + "\n");
            assertThat(c.read().body()).isEqualTo("POST /echo/p2-" + mode + " second");
            assertThat(c.read().body()).isEqualTo("ok /p3-" + mode + "\n");

            c.send("POST /echo/chunked-" + mode + " HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n7\r\n, world\r\n1\r\n!\r\n0\r\n\r\n");
            RawHttp.Response chunked = c.read();
            assertThat(chunked.status()).isEqualTo(200);
            assertThat(chunked.body()).isEqualTo("POST /echo/chunked-" + mode + " hello, world!");

            c.send("GET /last-" + mode + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
            RawHttp.Response last = c.read();
            assertThat(last.body()).isEqualTo("ok /last-" + mode + "\n");
            assertThat(last.header("connection")).isEqualTo("close");
            assertThat(c.closedByPeer()).isTrue();
        }
    }

    @Test
    void aSlowUpstreamGives504AndTheClientGoesOn() throws Exception {
        try (ProxyServer p = proxy(h2c(nginx.h2c), "upstream-timeout", "1s"); RawHttp c = new RawHttp(p.address(), 30_000)) {
            c.send(RawHttp.get("/slow"));
            assertThat(c.read().status()).isEqualTo(504);
            c.send(RawHttp.get("/after-504"));
            assertThat(c.read().body()).isEqualTo("ok /after-504\n");
            assertThat(p.handler().stats().timeouts()).isEqualTo(1);
        }
    }

    @Test
    void aFullQueueGives503AndTheStreamLimitIsHonoured() throws Exception {
        // nginx allows one stream at a time there; two requests may wait.
        try (ProxyServer p = proxy(h2c(nginx.oneStream), "upstream-queue", "2", "upstream-timeout", "4s")) {
            try (RawHttp warm = new RawHttp(p.address(), 30_000)) {
                warm.send(RawHttp.get("/warm"));
                assertThat(warm.read().status()).isEqualTo(200);
            }
            Await.until("the warm-up stream closed", () -> p.handler().stats().inFlight() == 0);
            List<RawHttp> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    RawHttp c = new RawHttp(p.address(), 30_000);
                    clients.add(c);
                    c.send(RawHttp.get("/slow"));
                }
                List<Integer> statuses = new ArrayList<>();
                for (RawHttp c : clients) {
                    statuses.add(c.read().status());
                }
                // One on the upstream's only stream, two queued (all three time out), one refused.
                assertThat(statuses).containsExactlyInAnyOrder(503, 504, 504, 504);
            } finally {
                for (RawHttp c : clients) {
                    c.close();
                }
            }
            assertThat(p.handler().stats().unavailable()).isEqualTo(1);
            assertThat(nginx.requests("one.log", "/slow")).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void anUpstreamRestartGives502sThenServiceAgain(@TempDir Path own) throws Exception {
        // An nginx of its own: restarting the shared one would disturb the other tests.
        int port = Nginx.freePort();
        try (Nginx n = Nginx.start(own, 1, "server { listen 127.0.0.1:" + port + " http2;"
                + " location / { return 200 \"ok $request_uri\\n\"; } }", List.of(port));
             ProxyServer p = proxy(h2c(port), "upstream-timeout", "20s")) {
            Load load = new Load(p.address(), 16);
            try {
                Await.until("responses before the restart", () -> load.ok() >= 200);
                n.stop();
                Await.until("502s while nginx is down", () -> load.badGateway() >= 1);
                long okWhileDown = load.ok();
                n.startAgain();
                Await.until("service again after the restart", () -> load.ok() >= okWhileDown + 200);
            } finally {
                load.stop();
            }
            assertThat(load.failures()).as("clients that got no answer or something other than 200/502").isEmpty();
            ProxyStats s = p.handler().stats();
            assertThat(s.badGateway()).isGreaterThanOrEqualTo(1);
            assertThat(s.upstreamLosses()).isGreaterThanOrEqualTo(1);
            assertThat(s.upstreamConnects()).isGreaterThanOrEqualTo(2);
        }
    }

    /** Clients that each send GETs one after the other until stopped, counting 200s and 502s. */
    static final class Load {
        private final ExecutorService threads;
        private final List<Future<List<String>>> results = new ArrayList<>();
        private final java.util.concurrent.atomic.LongAdder ok = new java.util.concurrent.atomic.LongAdder();
        private final java.util.concurrent.atomic.LongAdder badGateway = new java.util.concurrent.atomic.LongAdder();
        private volatile boolean stop;

        Load(InetSocketAddress to, int clients) {
            threads = Executors.newFixedThreadPool(clients);
            for (int i = 0; i < clients; i++) {
                int id = i;
                Callable<List<String>> client = () -> {
                    List<String> failures = new ArrayList<>();
                    try (RawHttp c = new RawHttp(to, 30_000)) {
                        for (int k = 0; !stop; k++) {
                            c.send(RawHttp.get("/load/" + id + "/" + k));
                            RawHttp.Response r = c.read();
                            if (r.status() == 200 && r.body().equals("ok /load/" + id + "/" + k + "\n")) {
                                ok.increment();
                            } else if (r.status() == 502) {
                                badGateway.increment();
                            } else {
                                failures.add(id + "/" + k + ": " + r);
                            }
                        }
                    } catch (IOException e) {
                        failures.add("client " + id + ": " + e);
                    }
                    return failures;
                };
                results.add(threads.submit(client));
            }
        }

        long ok() {
            return ok.sum();
        }

        long badGateway() {
            return badGateway.sum();
        }

        void stop() {
            stop = true;
            threads.shutdown();
        }

        List<String> failures() throws Exception {
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : results) {
                all.addAll(f.get());
            }
            return all;
        }
    }
}
