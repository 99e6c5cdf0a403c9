package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Echo round trips through both API styles over real loopback sockets. */
class EchoTest {
    private static final Duration T = Duration.ofSeconds(10);
    private ManCom mancom;

    @AfterEach
    void close() {
        if (mancom != null) {
            mancom.close();
        }
    }

    private ManCom start() {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        return mancom;
    }

    @Test
    void callbackServerBlockingClient() throws Exception {
        start().registerDataReceiver("echo", (conn, data) -> conn.write(data));
        mancom.awaitReady(T);
        try (BlockingConnection c = mancom.connect("echo")) {
            c.write("hello, mancom".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(readExactly(c, 13), StandardCharsets.UTF_8)).isEqualTo("hello, mancom");
            assertThat(c.remote()).isEqualTo(mancom.boundEndPoint("echo").orElseThrow());
            assertThat(c.service()).isEqualTo("echo");
        }
    }

    @Test
    void blockingServerBlockingClient() throws Exception {
        start();
        // Listening first means the client below cannot race the server's first accept().
        assertThat(mancom.listen("echo", T)).isEqualTo(mancom.boundEndPoint("echo").orElseThrow());
        ExecutorService server = Executors.newSingleThreadExecutor();
        try {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (BlockingConnection s = mancom.accept("echo", T)) {
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = s.read(buf, T)) > 0) {
                        s.write(buf, 0, n);
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }, server);
            byte[] payload = randomBytes(300_000, 2);
            try (BlockingConnection c = mancom.connect("echo")) {
                c.outputStream().write(payload);
                assertThat(readExactly(c, payload.length)).isEqualTo(payload);
            }
            served.get(10, TimeUnit.SECONDS);
        } finally {
            server.shutdownNow();
        }
    }

    @Test
    void callbacksOnAnExecutorStillSeeDataInOrder() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            start().registerDataReceiver("echo", (conn, data) -> {
                assertThat(Thread.currentThread().getName()).doesNotStartWith("mancom-io");
                conn.write(data);
            }, pool);
            mancom.awaitReady(T);
            byte[] payload = randomBytes(2_000_000, 3);
            try (BlockingConnection c = mancom.connect("echo")) {
                CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> {
                    try {
                        return readExactly(c, payload.length);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                c.write(payload);
                assertThat(echoed.get(30, TimeUnit.SECONDS)).isEqualTo(payload);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    static byte[] readExactly(BlockingConnection c, int n) throws Exception {
        byte[] out = new byte[n];
        int off = 0;
        while (off < n) {
            int r = c.read(out, off, n - off, T);
            if (r < 0) {
                return Arrays.copyOf(out, off);
            }
            off += r;
        }
        return out;
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
