package io.mancom.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real pseudo-terminal pair for serial tests: {@code socat} connects two ptys, and whatever is
 * written to one end is read from the other, as over a null-modem cable.
 *
 * <pre>
 *   socat pty,raw,echo=0,link=DIR/a pty,raw,echo=0,link=DIR/b
 *        DIR/a -&gt; /dev/pts/N  &lt;═══ socat ═══&gt;  DIR/b -&gt; /dev/pts/M
 * </pre>
 *
 * <p>Tests open the stable link paths ({@link #a()}, {@link #b()}), not the {@code /dev/pts}
 * numbers, so {@link #kill()} followed by {@link #restart()} looks to them like a cable pulled
 * out and plugged in again: the ptys behind the links are new, the paths are the same.
 *
 * <p>Not thread-safe; one test drives a pair. {@link #close()} kills socat. Needs the
 * {@code socat} command ({@code apt-get install socat}); {@link #available()} says whether it is
 * there. The serial benchmark (mancom-bench) uses it too, so tests and figures run on the same pair.
 */
public final class PtyPair implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final Path a;
    private final Path b;
    private final Path log;
    private final List<String> options;
    private Process socat;

    private PtyPair(Path a, Path b, Path log, List<String> options) {
        this.a = a;
        this.b = b;
        this.log = log;
        this.options = List.copyOf(options);
    }

    /**
     * Skips the calling test unless socat can be run; with {@code CI=true} a missing socat fails it
     * instead ({@link Tools#require}): CI installs it.
     */
    public static void require() {
        Tools.require("socat", "socat");
    }

    /** Whether the {@code socat} command can be run. */
    public static boolean available() {
        try {
            Process p = new ProcessBuilder("socat", "-V").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * The first line of {@code socat -V} that names the version (for example {@code socat version
     * 1.8.0.0 on ...}), or empty when socat cannot be run. Benchmarks print it beside their figures.
     */
    public static Optional<String> socatVersion() {
        try {
            Process p = new ProcessBuilder("socat", "-V").redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return Optional.empty();
            }
            return Optional.of(text.lines().filter(l -> l.startsWith("socat version")).findFirst().orElse("socat").strip());
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Starts a pair whose ends are the links {@code dir/a} and {@code dir/b}. */
    public static PtyPair start(Path dir) throws IOException {
        return start(dir.resolve("a"), dir.resolve("b"));
    }

    /** Starts a pair whose ends are the links {@code a} and {@code b}; returns once both exist. */
    public static PtyPair start(Path a, Path b) throws IOException {
        return start(a, b, List.of());
    }

    /**
     * Starts a pair whose ends are the links {@code a} and {@code b}, passing {@code socatOptions}
     * (for example {@code -b 1024}) to socat before its addresses; returns once both links exist.
     */
    public static PtyPair start(Path a, Path b, List<String> socatOptions) throws IOException {
        PtyPair p = new PtyPair(a.toAbsolutePath(), b.toAbsolutePath(),
                a.toAbsolutePath().resolveSibling(a.getFileName() + "-" + b.getFileName() + ".socat.log"), socatOptions);
        p.restart();
        return p;
    }

    /** One end: a symbolic link to a {@code /dev/pts/N} device. */
    public Path a() {
        return a;
    }

    /** The other end. */
    public Path b() {
        return b;
    }

    /** The pty device behind {@link #a()} now, for example {@code /dev/pts/3}. */
    public Path deviceA() throws IOException {
        return a.toRealPath();
    }

    /** The pty device behind {@link #b()} now. */
    public Path deviceB() throws IOException {
        return b.toRealPath();
    }

    /** Whether socat is running. */
    public boolean isRunning() {
        return socat != null && socat.isAlive();
    }

    /**
     * Stops socat (SIGTERM, then SIGKILL if it lingers) and waits until it has exited; both ptys
     * hang up, so a program with an end open sees its device fail. Removes the links. Idempotent.
     */
    public void kill() throws IOException {
        if (socat != null) {
            socat.destroy();
            try {
                if (!socat.waitFor(10, TimeUnit.SECONDS)) {
                    socat.destroyForcibly();
                    socat.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                socat.destroyForcibly();
            }
            socat = null;
        }
        // A socat that did not get to clean up leaves dangling links, and a new one would fail to
        // create its links over them.
        Files.deleteIfExists(a);
        Files.deleteIfExists(b);
    }

    /**
     * Starts a new socat on the same link paths (killing a running one first) and returns once
     * both links point to live ptys.
     *
     * @throws IOException if socat cannot be started or its links do not appear within 10 s; the
     *                     message includes socat's own output
     */
    public void restart() throws IOException {
        kill();
        Files.createDirectories(a.getParent());
        Files.createDirectories(b.getParent());
        List<String> command = new ArrayList<>(List.of("socat", "-d", "-d"));
        command.addAll(options);
        command.add("pty,raw,echo=0,link=" + a);
        command.add("pty,raw,echo=0,link=" + b);
        socat = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        // socat creates the links before it enters its transfer loop; polling for them is the
        // only readiness signal it gives.
        while (!(Files.exists(a) && Files.exists(b) && Files.isSymbolicLink(a) && Files.isSymbolicLink(b))) {
            if (!socat.isAlive()) {
                throw new IOException("socat exited with " + socat.exitValue() + ": " + socatLog());
            }
            if (System.nanoTime() > deadline) {
                kill();
                throw new IOException("socat did not create " + a + " and " + b + " within " + START_TIMEOUT + ": " + socatLog());
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
                throw new IOException("interrupted while starting socat", e);
            }
        }
    }

    /** Kills socat; the links are removed. */
    @Override
    public void close() throws IOException {
        kill();
    }

    private String socatLog() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8).strip() : "(no output)";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    @Override
    public String toString() {
        return "PtyPair[" + a + " <-> " + b + (isRunning() ? "" : ", stopped") + "]";
    }
}
