package io.mancom.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real processes for the daemon tests: JVMs on this test's class path (the CLI's {@code Main}, or
 * any main class), outside tools, signals with the shell's {@code kill}. Every process started
 * is killed by {@link #close()}; standard error goes to a file of its own.
 */
final class Processes implements AutoCloseable {
    private final Path dir;
    private final List<Process> started = new ArrayList<>();
    private final Map<Process, Path> stderr = new java.util.concurrent.ConcurrentHashMap<>();

    /** Whether {@code env --default-signal} exists here (coreutils 8.31 and later). */
    private static final boolean DEFAULT_HUP = envResetsSignals();

    Processes(Path dir) {
        this.dir = dir;
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The JVM command line that runs {@code mainClass} on this test's class path. */
    static List<String> jvm(String mainClass) {
        return new ArrayList<>(List.of(java(), "-cp", System.getProperty("java.class.path"), mainClass));
    }

    /** {@code mancom ARGS} in a new JVM. */
    Process mancom(String... args) throws IOException {
        List<String> cmd = jvm(Main.class.getName());
        cmd.addAll(List.of(args));
        return start(cmd, Map.of());
    }

    Process start(List<String> cmd, Map<String, String> env) throws IOException {
        Path err = dir.resolve("stderr-" + System.nanoTime() + ".txt");
        List<String> line = cmd;
        if (DEFAULT_HUP) {
            // Once a test of this JVM has opened a serial port, jSerialComm's JNI_OnLoad has set
            // SIGHUP to SIG_IGN process-wide (Fazecast/jSerialComm#612), and an ignored signal stays
            // ignored across exec: a daemon started from here would never see the tests' SIGHUP.
            // Start children as systemd or a shell would, with SIGHUP at its default (env execs,
            // so the pid is the program's).
            line = new ArrayList<>(List.of("env", "--default-signal=HUP"));
            line.addAll(cmd);
        }
        ProcessBuilder pb = new ProcessBuilder(line).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        stderr.put(p, err);
        return p;
    }

    private static boolean envResetsSignals() {
        try {
            Process p = new ProcessBuilder("env", "--default-signal=HUP", "true").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Reads standard output until a line starts with {@code prefix}; returns the lines read. */
    List<String> awaitLine(Process p, String prefix) throws IOException {
        List<String> lines = new ArrayList<>();
        BufferedReader r = p.inputReader(StandardCharsets.UTF_8);
        for (String line; (line = r.readLine()) != null; ) {
            lines.add(line);
            if (line.startsWith(prefix)) {
                return lines;
            }
        }
        throw new AssertionError("the process ended before printing '" + prefix + "' (exit " + exit(p, 10) + "): "
                + lines + "\n" + stderr(p));
    }

    static int exit(Process p, int seconds) {
        try {
            return p.waitFor(seconds, TimeUnit.SECONDS) ? p.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    String stderr(Process p) {
        try {
            return Files.readString(stderr.get(p), StandardCharsets.UTF_8);
        } catch (IOException | NullPointerException e) {
            return "(no stderr: " + e + ")";
        }
    }

    static void kill(String signal, long pid) throws Exception {
        Process k = new ProcessBuilder("sh", "-c", "kill -s " + signal + " " + pid).inheritIO().start();
        assertThat(k.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(k.exitValue()).isZero();
    }

    /**
     * Whether {@code tool} is on the PATH; when it is not, the test is skipped with a message, or
     * fails when CI=true (CI installs every tool).
     */
    static String requireTool(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        String why = tool + " is not installed (apt-get install " + (tool.startsWith("systemd") ? "systemd" : tool) + ")";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(why + "; CI must have it");
        }
        assumeTrue(false, why);
        return null;
    }

    /** {@code curl --unix-socket SOCKET http://mancomd ROUTE}: the body, or fails with curl's error. */
    static String curl(Path socket, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(requireTool("curl"), "-sS", "--max-time", "30", "--unix-socket",
                socket.toString()));
        cmd.addAll(List.of(args));
        Process c = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(c.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(c.exitValue()).as("curl " + cmd + ": " + out).isZero();
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
