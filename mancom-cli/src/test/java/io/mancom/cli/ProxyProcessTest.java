package io.mancom.cli;

import io.mancom.testkit.Nginx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code mancom proxy}, and {@code mancom serve} with a {@code handler = http-proxy} service, as real
 * processes between curl and nginx (HTTP/2 cleartext): requests go through, SIGTERM stops them with
 * exit 0 (the proxy with its counters); bad options exit 2 naming the key.
 */
@Timeout(120)
class ProxyProcessTest {
    @TempDir
    Path dir;

    @Test
    void curlThroughTheProxyToNginxOverH2c() throws Exception {
        Nginx.require();
        String curl = Processes.requireTool("curl");
        int upstream = Nginx.freePort();
        int listen = Nginx.freePort();
        try (Nginx n = Nginx.start(dir.resolve("nginx"), 1, "server { listen 127.0.0.1:" + upstream + " http2;"
                + " location / { return 200 \"$server_protocol $request_uri\\n\"; } }", List.of(upstream));
             Processes processes = new Processes(dir)) {
            Process p = processes.mancom("proxy", "--listen", "tcp://127.0.0.1:" + listen,
                    "--upstream", "h2c://127.0.0.1:" + upstream);
            processes.awaitLine(p, "Proxying");

            // Two URLs in one curl: two requests on one keep-alive connection.
            Process c = new ProcessBuilder(curl, "-sS", "--max-time", "30", "http://127.0.0.1:" + listen + "/a",
                    "http://127.0.0.1:" + listen + "/b").redirectErrorStream(true).start();
            String out = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(c.waitFor(60, TimeUnit.SECONDS)).isTrue();
            // nginx saw HTTP/2 requests.
            assertThat(out).isEqualTo("HTTP/2.0 /a\nHTTP/2.0 /b\n");

            Processes.kill("TERM", p.pid());
            List<String> rest = new ArrayList<>(processes.awaitLine(p, "proxy: "));
            assertThat(Processes.exit(p, 30)).isZero();
            assertThat(rest.get(rest.size() - 1)).contains("requests=2 responses=2 502=0");
        }
    }

    @Test
    void serveRunsAnHttpProxyServiceFromTheConfigFile() throws Exception {
        Nginx.require();
        String curl = Processes.requireTool("curl");
        int upstream = Nginx.freePort();
        int listen = Nginx.freePort();
        Path conf = dir.resolve("proxy.conf");
        java.nio.file.Files.writeString(conf, "mancom.services.web {\n"
                + "  endpoint = \"tcp://127.0.0.1:" + listen + "\"\n"
                + "  handler = http-proxy\n"
                + "  upstream = \"h2c://127.0.0.1:" + upstream + "\"\n"
                + "}\n");
        try (Nginx n = Nginx.start(dir.resolve("nginx"), 1, "server { listen 127.0.0.1:" + upstream + " http2;"
                + " location / { return 200 \"$server_protocol $request_uri\\n\"; } }", List.of(upstream));
             Processes processes = new Processes(dir)) {
            Process p = processes.mancom("serve", "--config", conf.toString());
            List<String> listing = processes.awaitLine(p, "Serving until interrupted");
            assertThat(String.join("\n", listing)).contains("web").contains("http-proxy");

            Process c = new ProcessBuilder(curl, "-sS", "--max-time", "30", "http://127.0.0.1:" + listen + "/x",
                    "http://127.0.0.1:" + listen + "/y").redirectErrorStream(true).start();
            String out = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(c.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(out).isEqualTo("HTTP/2.0 /x\nHTTP/2.0 /y\n");

            Processes.kill("TERM", p.pid());
            assertThat(Processes.exit(p, 30)).isZero();
        }
    }

    @Test
    void aBadUpstreamExitsTwoNamingTheKey() {
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                "proxy", "--listen", "tcp://127.0.0.1:0", "--upstream", "ftp://127.0.0.1:21");
        assertThat(code).isEqualTo(Main.CONFIG);
        assertThat(err.toString()).contains("upstream").contains("ftp://127.0.0.1:21").contains("h2c://HOST:PORT");
    }
}
