package io.mancom.tcp;

import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.testkit.Await;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The descriptor limit reached for real: a server JVM under {@code ulimit -n 256} is flooded with
 * connections until accept fails with EMFILE; it pauses accepting with one line that says what to
 * raise (never Netty's warning per failed accept), and serves again once descriptors are free.
 */
class DescriptorLimitTest {
    @TempDir
    Path tmp;

    /** The child: an echo service; prints its port, runs until its stdin ends. */
    public static void main(String[] args) throws Exception {
        ManCom m = TestManCom.start("mancom.services.demo = null\n"
                + "mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"\n"
                + "mancom.services.echo.tcp.backlog = 2048\n"
                + "mancom.runtime-dir = \"" + args[0] + "\"\n");
        m.registerDataReceiver("echo", (c, d) -> c.write(d));
        m.awaitReady(Duration.ofSeconds(30));
        System.out.println("port " + ((TcpAddress) m.boundEndPoint("echo").orElseThrow().address()).port());
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the parent closes our stdin
        }
        m.close();
    }

    @Test
    void atTheDescriptorLimitAcceptingPausesWithOneLineAndRecovers() throws Exception {
        Path log = tmp.resolve("server.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "ulimit -n 256 && exec \"$0\" \"$@\"", java,
                "-cp", System.getProperty("java.class.path"), "-Dio.mancom.tcp.acceptPauseMillis=100",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", DescriptorLimitTest.class.getName(),
                tmp.resolve("run").toString());
        pb.redirectError(log.toFile());
        Process child = pb.start();
        List<Socket> flood = new ArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String first = CompletableFuture.supplyAsync(() -> {
                try {
                    return out.readLine();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(60, TimeUnit.SECONDS);
            assertThat(first).as("child's first line (log: %s)", log).startsWith("port ");
            int port = Integer.parseInt(first.substring(5).trim());
            long start = System.nanoTime();

            // 400 connections: the kernel completes them all (backlog 2048); the server runs out of
            // descriptors somewhere past 200.
            for (int i = 0; i < 400; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                flood.add(s);
            }
            Await.until("the server's descriptor line", Duration.ofSeconds(60),
                    () -> logText(log).contains("out of file descriptors"));
            // A good client now waits in the listen queue, unserved.
            try (Socket good = new Socket()) {
                good.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                for (Socket s : flood) {
                    s.close();
                }
                // Descriptors come free as the server sees the floods' closes; accepting resumes.
                good.setSoTimeout(60_000);
                good.getOutputStream().write('x');
                assertThat(good.getInputStream().read()).isEqualTo('x');
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            String text = logText(log);
            String line = text.lines().filter(l -> l.contains("out of file descriptors")).findFirst().orElseThrow();
            assertThat(line).contains("ulimit -n").contains("LimitNOFILE=").contains("Too many open files");
            // Once per interval, not once per failed accept (there were hundreds, every 100 ms).
            assertThat(text.lines().filter(l -> l.contains("out of file descriptors")).count())
                    .isLessThanOrEqualTo(1 + (long) (seconds / 10));
            assertThat(text).doesNotContain("reached at the tail of the pipeline");
        } finally {
            for (Socket s : flood) {
                s.close();
            }
            child.getOutputStream().close();
            if (!child.waitFor(30, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
    }

    private static String logText(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }
}
