package io.mancom.nativeshim;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A benchmark, not a test: echo throughput of the C callback server (echo_server.c) against the
 * Java callback server ({@link JavaEchoServer}), each in its own process, driven by the same Java
 * client in the same run, alternating; then bench_calls.c for the cost of single calls.
 *
 * <pre>
 * mvn -q -B -o -pl mancom-native -am install -DskipTests
 * java -cp mancom-native/target/dist/lib/mancom.jar:mancom-native/target/test-classes io.mancom.nativeshim.EchoBench
 * </pre>
 */
public final class EchoBench {
    private static final int CONNECTIONS = 4;
    private static final int CHUNK = 16 * 1024;
    private static final int IN_FLIGHT_CHUNKS = 4;
    private static final Duration WARMUP = Duration.ofSeconds(3);
    private static final Duration MEASURE = Duration.ofSeconds(4);
    private static final int ROUNDS = 3;

    private EchoBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("mancom-bench");
        int cPort = CPrograms.freePort();
        int javaPort = CPrograms.freePort();
        Path cConfig = Files.createDirectories(dir.resolve("c"));
        Path javaConfig = Files.createDirectories(dir.resolve("java"));
        Map<String, String> jvm = Map.of("MANCOM_JVM_OPTS", "");
        try (CProcess c = CPrograms.start(CPrograms.sample("echo_server"),
                     CPrograms.config(cConfig, "mancom.services.echo.endpoint = \"tcp://127.0.0.1:" + cPort + "\""), List.of(), jvm);
             CProcess j = javaServer(CPrograms.config(javaConfig, "mancom.services.echo.endpoint = \"tcp://127.0.0.1:" + javaPort + "\""));
             ManCom client = ManCom.builder().overrides("mancom.services { c.endpoint = \"tcp://127.0.0.1:" + cPort
                     + "\"\n java.endpoint = \"tcp://127.0.0.1:" + javaPort + "\" }").start()) {
            c.awaitLine("serving", Duration.ofSeconds(30));
            j.awaitLine("serving", Duration.ofSeconds(30));
            double[] cRuns = new double[ROUNDS];
            double[] javaRuns = new double[ROUNDS];
            for (int r = 0; r < ROUNDS; r++) {
                cRuns[r] = run(client, "c");
                javaRuns[r] = run(client, "java");
                System.out.printf("round %d: C server %.1f MiB/s, Java server %.1f MiB/s%n", r + 1, cRuns[r], javaRuns[r]);
            }
            double cm = median(cRuns);
            double jm = median(javaRuns);
            System.out.printf("echo throughput (median of %d, %d connections x %d KiB in flight): C %.1f MiB/s, Java %.1f MiB/s, ratio C/Java %.2f%n",
                    ROUNDS, CONNECTIONS, CHUNK * IN_FLIGHT_CHUNKS / 1024, cm, jm, cm / jm);
            c.stop(Duration.ofSeconds(30));
            j.stop(Duration.ofSeconds(30));
        }
        try (CProcess calls = CPrograms.start(CPrograms.test("bench_calls"), CPrograms.config(dir, ""), List.of(), jvm)) {
            calls.waitFor(Duration.ofSeconds(120));
            calls.stdout().forEach(System.out::println);
        }
    }

    private static CProcess javaServer(Path config) throws java.io.IOException {
        String cp;
        try {
            cp = CPrograms.DIST.resolve("lib/mancom.jar") + ":"
                    + Path.of(EchoBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xrs", "-cp", cp, JavaEchoServer.class.getName(), "echo");
        pb.environment().put("MANCOM_CONFIG", config.toString());
        pb.environment().put("XDG_CONFIG_HOME", config.getParent().resolve("xdg").toString());
        return new CProcess("java_echo_server", pb.start());
    }

    /** MiB/s echoed by the server of {@code service}, with a fixed number of bytes in flight. */
    private static double run(ManCom client, String service) throws Exception {
        LongAdder received = new LongAdder();
        DataReceiver echoBack = (conn, data) -> {
            received.add(data.remaining());
            conn.write(data);   // keeps the bytes in flight constant
        };
        List<Connection> conns = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) {
            Connection conn = client.connectAsync(service, echoBack).get(10, TimeUnit.SECONDS);
            conns.add(conn);
            for (int k = 0; k < IN_FLIGHT_CHUNKS; k++) {
                conn.write(ByteBuffer.allocate(CHUNK));
            }
        }
        Thread.sleep(WARMUP.toMillis());          // a benchmark's warm-up, not synchronisation
        long before = received.sum();
        long t0 = System.nanoTime();
        Thread.sleep(MEASURE.toMillis());
        long bytes = received.sum() - before;
        long t1 = System.nanoTime();
        conns.forEach(Connection::close);
        return bytes / 1048576.0 / ((t1 - t0) / 1e9);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
