package io.mancom.serial;

import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.testkit.Nginx;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestRuntimes;
import io.mancom.testkit.Tools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tunnel over a serial line (a socat pty pair): curl → near ManCom ({@code handler = tunnel},
 * its uplink a {@code serial://} service with mux on) → the line → far ManCom (the other end, a mux
 * service with {@code handler = forward}) → nginx. Skipped without socat, nginx or curl (failed with
 * {@code CI=true}).
 */
class TunnelOverPtyTest {
    private static final Duration T = Duration.ofSeconds(30);
    @TempDir
    Path dir;
    private PtyPair pty;
    private Nginx nginx;
    private final TestRuntimes runtimes = new TestRuntimes();
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stop() throws Exception {
        threads.shutdownNow();
        runtimes.close();
        if (pty != null) {
            pty.close();
        }
        if (nginx != null) {
            nginx.close();
        }
    }

    @Test
    void curlReachesNginxThroughATunnelOverAPtyPair() throws Exception {
        Tools.require("socat", "socat");
        Nginx.require();
        Tools.require("curl", "curl");
        Path www = Files.createDirectories(dir.resolve("www"));
        List<byte[]> files = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            byte[] b = new byte[100_000 * (i + 1) + i];
            new Random(i).nextBytes(b);
            Files.write(www.resolve("f" + i), b);
            files.add(b);
        }
        int port = Nginx.freePort();
        nginx = Nginx.start(dir.resolve("nginx"), 1, "server { listen 127.0.0.1:" + port + "; root " + www + "; }",
                List.of(port));
        pty = PtyPair.start(dir.resolve("a"), dir.resolve("b"), List.of("-b", "1024"));

        ManComRuntime far = (ManComRuntime) runtimes.start("mancom.services.web { endpoint = \"serial://" + pty.b()
                + "\", mux = on, handler = forward, forward = \"tcp://127.0.0.1:" + port + "\" }");
        far.handleLinks("web", far.forwarder("web"));
        far.awaitReady(T);
        ManComRuntime near = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  uplink { endpoint = \"serial://" + pty.a() + "\", mux = on, listen = off }\n"
                + "  web { endpoint = \"tcp://127.0.0.1:0\", handler = tunnel, via = uplink }\n"
                + "}");
        near.handleLinks("web", near.tunneller("web"));
        near.awaitReady(T);
        int nearPort = ((TcpAddress) near.boundEndPoint("web").orElseThrow().address()).port();

        List<CompletableFuture<Tools.Result>> curls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String out = dir.resolve("got" + i).toString();
            String url = "http://127.0.0.1:" + nearPort + "/f" + i;
            curls.add(CompletableFuture.supplyAsync(() -> Tools.run(dir, new byte[0], 60,
                    List.of("curl", "-sS", "--fail", "-o", out, url)), threads));
        }
        for (int i = 0; i < 3; i++) {
            Tools.Result r = curls.get(i).get(90, TimeUnit.SECONDS);
            assertThat(r.exit()).as(r.all()).isZero();
            assertThat(Files.readAllBytes(dir.resolve("got" + i))).as("file %d", i).isEqualTo(files.get(i));
        }
    }
}
