package io.mancom.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * {@code mancom serve} as a real process, the way a shell, systemd or a container runtime runs it:
 * how it ends on a config error and on SIGTERM/SIGINT (sent with {@code kill}).
 */
@Timeout(120)
class ServeProcessTest {
    @TempDir
    Path dir;

    private final Map<Process, Path> stderrFiles = new HashMap<>();

    @AfterEach
    void killWhatIsLeft() throws InterruptedException {
        for (Process p : stderrFiles.keySet()) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void twoServicesOnOneEndpointWithoutMuxExitPromptlyWithTwo() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Path conf = Files.writeString(dir.resolve("shared.conf"), String.join("\n",
                "mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:" + port + "\" }",
                "  b { endpoint = \"tcp://127.0.0.1:" + port + "\" }",
                "}", ""));
        Process p = mancom(List.of("serve", "--config", conf.toString()));

        // It used to print the error and then wait 15 s for a shutdown hook added before the
        // runtime failed to start: a prompt exit is well under that.
        long started = System.nanoTime();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).as("serve exited within 10 s").isTrue();
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        assertThat(p.exitValue()).as(stderr(p)).isEqualTo(Main.CONFIG);
        assertThat(stderr(p)).contains("use endpoint tcp://127.0.0.1:" + port).contains("mux");
        assertThat(seconds).isLessThan(10);
    }

    @Test
    void sigtermStopsServeCleanlyWithExitCodeZero() throws Exception {
        Process p = serveOneService();
        List<String> out = awaitServing(p);

        kill("TERM", p);

        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("serve exited after SIGTERM").isTrue();
        out.addAll(p.inputReader(StandardCharsets.UTF_8).lines().toList());
        assertThat(p.exitValue()).as(stderr(p)).isEqualTo(Main.OK);
        assertThat(out).contains("Stopping: closing every connection and port.", "Stopped.");
    }

    @Test
    void sigintStopsServeCleanlyWithExitCodeZero() throws Exception {
        Process p = serveOneService();
        List<String> out = awaitServing(p);
        // A process started in the background by a non-interactive shell inherits SIGINT ignored;
        // then no program can act on it, and there is nothing to test.
        assumeFalse(ignores(p, 2), "SIGINT is ignored in this environment (a background job)");

        kill("INT", p);

        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("serve exited after SIGINT").isTrue();
        out.addAll(p.inputReader(StandardCharsets.UTF_8).lines().toList());
        assertThat(p.exitValue()).as(stderr(p)).isEqualTo(Main.OK);
        assertThat(out).contains("Stopped.");
    }

    private Process serveOneService() throws IOException {
        Path conf = Files.writeString(dir.resolve("one.conf"),
                "mancom.services.echo { endpoint = \"tcp://127.0.0.1:0\" }\n");
        return mancom(List.of("serve", "--config", conf.toString()));
    }

    /** Reads standard output until serve says it is serving; returns the lines read. */
    private List<String> awaitServing(Process p) throws IOException {
        List<String> lines = new ArrayList<>();
        BufferedReader r = p.inputReader(StandardCharsets.UTF_8);
        for (String line; (line = r.readLine()) != null; ) {
            lines.add(line);
            if (line.startsWith("Serving until interrupted")) {
                return lines;
            }
        }
        throw new AssertionError("serve ended before serving (exit " + waitExit(p) + "): " + lines + "\n" + stderr(p));
    }

    private static int waitExit(Process p) {
        try {
            return p.waitFor(10, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** {@code mancom ARGS} in a new JVM on this test's class path, standard error to a file of its own. */
    private Process mancom(List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        Path err = dir.resolve("stderr-" + args.get(0) + "-" + System.nanoTime() + ".txt");
        Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
        stderrFiles.put(p, err);
        return p;
    }

    /** What the process printed on standard error so far. */
    private String stderr(Process p) {
        try {
            return Files.readString(stderrFiles.get(p), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(stderr unreadable: " + e + ")";
        }
    }

    private static void kill(String signal, Process p) throws Exception {
        // The shell's own kill: no procps needed.
        Process k = new ProcessBuilder("sh", "-c", "kill -s " + signal + " " + p.pid()).inheritIO().start();
        assertThat(k.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(k.exitValue()).isZero();
    }

    /** Whether signal number {@code sig} is ignored in process {@code p} (Linux: /proc/PID/status, SigIgn). */
    private static boolean ignores(Process p, int sig) throws IOException {
        Path status = Path.of("/proc", Long.toString(p.pid()), "status");
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("SigIgn:")) {
                long mask = Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16);
                return (mask & (1L << (sig - 1))) != 0;
            }
        }
        return false;
    }
}
