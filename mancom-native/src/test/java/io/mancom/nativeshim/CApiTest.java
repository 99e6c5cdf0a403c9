package io.mancom.nativeshim;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Error paths, threads, finding the JVM and the jar, clean exit: each a real C program. */
@Timeout(60)
class CApiTest {
    private static final Duration T = Duration.ofSeconds(30);
    private static final String SERVICES = "mancom.services {\n"
            + "  srv { endpoint = \"tcp://127.0.0.1:0\" }\n"
            + "  cb { endpoint = \"tcp://127.0.0.1:0\" }\n"
            + "  refused { endpoint = \"tcp://127.0.0.1:1\" }\n"
            + "}\n";

    @TempDir
    Path dir;

    @Test
    void everyErrorPathReturnsItsCodeAndMessage() throws Exception {
        // Also finds the JVM through the `java` on PATH: no JAVA_HOME.
        try (CProcess p = CPrograms.start(CPrograms.test("errors"), CPrograms.config(dir, SERVICES), List.of(),
                Map.of("JAVA_HOME", ""))) {
            assertThat(p.waitFor(T)).as(p.output()).isZero();
            List<String> out = p.stdout();
            assertThat(out).noneMatch(l -> l.startsWith("FAIL"));
            assertThat(out).filteredOn(l -> l.startsWith("ok ")).hasSize(73);
            assertThat(out).anyMatch(l -> l.startsWith("ok connect unknown service: -11 ") && l.contains("known services: cb, demo, refused, srv"));
            assertThat(out).anyMatch(l -> l.startsWith("ok connect refused: -15 ") && l.contains("connection refused"));
            assertThat(out).anyMatch(l -> l.startsWith("ok read timeout: -16 ") && l.contains("nothing was lost"));
            assertThat(out).anyMatch(l -> l.startsWith("ok write closed handle: -3 ") && l.contains("not a live handle"));
            assertThat(out).contains("73 checks, 0 failures");
        }
    }

    @Test
    void theTcpTimeoutsReachCAsTheirOwnCloseCodes() throws Exception {
        // Each connection has a timeout at one end only. With a ManCom client of the same service
        // at the other end, the end whose timer fired first under load closed the connection and
        // the other saw a plain close. The C program's plain sockets dial idle and read; idle-out
        // and read-out dial these silent listeners (the kernel accepts; nobody ever sends).
        int[] port = freePorts(2);
        try (ServerSocket idlePeer = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
                ServerSocket readPeer = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            String services = "mancom.services {\n"
                    + "  idle { endpoint = \"tcp://127.0.0.1:" + port[0] + "\", tcp.idle-timeout = 300ms }\n"
                    + "  read { endpoint = \"tcp://127.0.0.1:" + port[1] + "\", tcp.read-timeout = 300ms }\n"
                    + "  idle-out { endpoint = \"tcp://127.0.0.1:" + idlePeer.getLocalPort() + "\", tcp.idle-timeout = 300ms }\n"
                    + "  read-out { endpoint = \"tcp://127.0.0.1:" + readPeer.getLocalPort() + "\", tcp.read-timeout = 300ms }\n"
                    + "}\n";
            try (CProcess p = CPrograms.start(CPrograms.test("timeouts"), CPrograms.config(dir, services),
                    List.of(Integer.toString(port[0]), Integer.toString(port[1])))) {
                assertThat(p.waitFor(T)).as(p.output()).isZero();
                assertThat(p.stdout()).anyMatch(l -> l.startsWith("idle: -26 ") && l.contains("tcp.idle-timeout"));
                assertThat(p.stdout()).anyMatch(l -> l.startsWith("read: -27 ") && l.contains("tcp.read-timeout"));
                assertThat(p.stdout()).anyMatch(l -> l.startsWith("client idle: -26 ") && l.contains("tcp.idle-timeout"));
                assertThat(p.stdout()).anyMatch(l -> l.startsWith("client read: -27 ") && l.contains("tcp.read-timeout"));
                assertThat(p.stdout()).anyMatch(l -> l.contains("MANCOM_EIDLETIMEOUT") && l.contains("MANCOM_EREADTIMEOUT"));
            }
        }
    }

    /** {@code n} distinct TCP ports that were free a moment ago (held together, so never one twice). */
    private static int[] freePorts(int n) throws IOException {
        ServerSocket[] held = new ServerSocket[n];
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                held[i] = new ServerSocket(0);
                ports[i] = held[i].getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket s : held) {
                if (s != null) {
                    s.close();
                }
            }
        }
    }

    @Test
    void eightThreadsUseTheBlockingApiAtOnce() throws Exception {
        try (CProcess p = CPrograms.start(CPrograms.test("threads"), CPrograms.config(dir, SERVICES), List.of())) {
            assertThat(p.waitFor(T)).as(p.output()).isZero();
            assertThat(p.stdout()).contains("threads: 8 of 8 threads echoed 200 x 1000 bytes");
        }
    }

    /** The backlog is the service's blocking.accept-backlog (C had a fixed 128 of its own). */
    @Test
    void blockingAcceptBacklogComesFromTheServiceSettings() throws Exception {
        String services = "mancom.services.small { endpoint = \"tcp://127.0.0.1:0\", blocking.accept-backlog = 1 }\n";
        try (CProcess p = CPrograms.start(CPrograms.test("backlog"), CPrograms.config(dir, services), List.of())) {
            assertThat(p.waitFor(T)).as(p.output()).isZero();
            assertThat(p.stdout()).contains("refused=2 accepted=1");
        }
    }

    @Test
    void saysWhereItLookedForTheJvm() throws Exception {
        try (CProcess p = CPrograms.start(CPrograms.test("init_only"), CPrograms.config(dir, SERVICES), List.of(),
                Map.of("JAVA_HOME", "/nonexistent/jdk", "PATH", "/nonexistent/bin"))) {
            assertThat(p.waitFor(T)).as(p.output()).isEqualTo(2);
            assertThat(p.stdout()).singleElement().asString()
                    .startsWith("init -5 mancom_init: cannot find libjvm.so")
                    .contains("/nonexistent/jdk/lib/server/libjvm.so ($JAVA_HOME)")
                    .contains("java on PATH (none found)")
                    .contains("/usr/lib/jvm/default-java/lib/server/libjvm.so")
                    .contains("set JAVA_HOME");
        }
    }

    @Test
    void saysWhereItLookedForTheJar() throws Exception {
        // A copy of libmancom.so with no jar beside it, found first through LD_LIBRARY_PATH.
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Files.copy(CPrograms.DIST.resolve("lib/libmancom.so"), lib.resolve("libmancom.so"), StandardCopyOption.REPLACE_EXISTING);
        try (CProcess p = CPrograms.start(CPrograms.test("init_only"), CPrograms.config(dir, SERVICES), List.of(),
                Map.of("LD_LIBRARY_PATH", lib.toString(), "MANCOM_JAR", dir.resolve("missing.jar").toString()))) {
            assertThat(p.waitFor(T)).as(p.output()).isEqualTo(2);
            assertThat(p.stdout()).singleElement().asString()
                    .startsWith("init -5 mancom_init: cannot find the ManCom jar")
                    .contains("missing.jar ($MANCOM_JAR")
                    .contains(lib.toRealPath().resolve("mancom.jar") + " (beside libmancom.so");
        }
    }

    @Test
    void aBadConfigIsAnInitError() throws Exception {
        Path config = CPrograms.config(dir, "mancom.services { broken { endpoint = \"tcp://nohost\" } }");
        try (CProcess p = CPrograms.start(CPrograms.test("init_only"), config, List.of())) {
            assertThat(p.waitFor(T)).as(p.output()).isEqualTo(2);
            assertThat(p.stdout()).singleElement().asString().startsWith("init -10 mancom_init: ").contains("mancom.services.broken.endpoint");
        }
    }
}
