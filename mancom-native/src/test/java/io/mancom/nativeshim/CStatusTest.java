package io.mancom.nativeshim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.cli.Main;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A C program is a ManCom process like any other: its runtime (in the JVM the shim starts) serves
 * a control socket, and {@code mancom status --json} lists it beside two {@code mancom serve}
 * processes, all three sharing one runtime directory, with each service's exact byte counts.
 */
@Timeout(180)
class CStatusTest {
    private static final Duration T = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final List<Process> serves = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process p : serves) {
            p.destroy();
        }
        for (Process p : serves) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    @Test
    void statusListsTwoServeProcessesAndACProgramWithExactCounts() throws Exception {
        Path run = dir.resolve("run");
        int cPort = CPrograms.freePort();
        Path cdir = Files.createDirectories(dir.resolve("c"));
        Path config = CPrograms.config(cdir, "mancom.runtime-dir = \"" + run + "\"\n"
                + "mancom.services { echo { endpoint = \"tcp://127.0.0.1:" + cPort + "\" } }\n");
        Map<String, Integer> ports = new HashMap<>();
        for (String name : List.of("alpha", "beta")) {
            int port = CPrograms.freePort();
            ports.put(name, port);
            Path conf = Files.writeString(dir.resolve(name + ".conf"), "mancom.runtime-dir = \"" + run + "\"\n"
                    + "mancom.services." + name + " { endpoint = \"tcp://127.0.0.1:" + port + "\" }\n");
            serves.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve", "--config", conf.toString())
                    .redirectError(dir.resolve(name + ".err").toFile()).start());
        }
        try (CProcess c = CPrograms.start(CPrograms.sample("echo_server"), config, List.of())) {
            c.awaitLine("serving 'echo'", T);
            for (Process p : serves) {
                awaitServing(p);
            }
            echo(cPort, 7_777);
            echo(ports.get("alpha"), 1_111);
            echo(ports.get("beta"), 2_222);

            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "status", "--json",
                    "--runtime-dir", run.toString());
            assertThat(code).as(err.toString()).isZero();
            JsonNode doc = JSON.readTree(out.toString());
            Map<Long, JsonNode> byPid = new HashMap<>();
            doc.get("processes").forEach(p -> byPid.put(p.get("pid").asLong(), p));
            long cPid = c.pid();
            assertThat(byPid.keySet()).containsExactlyInAnyOrder(cPid, serves.get(0).pid(), serves.get(1).pid());
            assertThat(bytesIn(byPid.get(cPid), "echo")).isEqualTo(7_777);
            assertThat(bytesIn(byPid.get(serves.get(0).pid()), "alpha")).isEqualTo(1_111);
            assertThat(bytesIn(byPid.get(serves.get(1).pid()), "beta")).isEqualTo(2_222);
            assertThat(c.stop(T)).as(c.output()).isZero();
        }
    }

    /** Sends {@code n} bytes and reads them back: the server has counted them both ways once this returns. */
    private static void echo(int port, int n) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(new byte[n]);
            assertThat(s.getInputStream().readNBytes(n)).hasSize(n);
        }
    }

    private static long bytesIn(JsonNode process, String service) {
        for (JsonNode s : process.get("services")) {
            if (s.get("name").asText().equals(service)) {
                assertThat(s.get("bytesOut").asLong()).isEqualTo(s.get("bytesIn").asLong());
                return s.get("bytesIn").asLong();
            }
        }
        throw new AssertionError("no service " + service + " in " + process);
    }

    private static void awaitServing(Process p) throws IOException {
        BufferedReader r = p.inputReader(StandardCharsets.UTF_8);
        for (String line; (line = r.readLine()) != null; ) {
            if (line.startsWith("Serving until interrupted")) {
                return;
            }
        }
        throw new AssertionError("mancom serve ended before serving");
    }
}
