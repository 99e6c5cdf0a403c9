package io.mancom.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A pseudo-terminal pair for the serial benchmark, made by {@code socat pty,raw,echo=0,link=DIR/a
 * pty,raw,echo=0,link=DIR/b}: bytes written to one end are read from the other, as over a
 * null-modem cable. (The tests use mancom-testkit's PtyPair, which the CLI does not ship.)
 */
final class SocatPair implements AutoCloseable {
    private static final long START_NANOS = TimeUnit.SECONDS.toNanos(10);
    private final Path a;
    private final Path b;
    private final Path log;
    private final Process socat;

    private SocatPair(Path a, Path b, Path log, Process socat) {
        this.a = a;
        this.b = b;
        this.log = log;
        this.socat = socat;
    }

    /** The socat version line, or null when socat cannot be run. */
    static String version() {
        try {
            Process p = new ProcessBuilder("socat", "-V").redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return text.lines().filter(l -> l.startsWith("socat version")).findFirst().orElse("socat").strip();
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Starts socat with links {@code dir/a} and {@code dir/b}; returns once both exist. */
    static SocatPair start(Path dir) throws IOException, InterruptedException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        Path log = dir.resolve("socat.log");
        Process p = new ProcessBuilder(List.of("socat", "-d", "-d",
                "pty,raw,echo=0,link=" + a, "pty,raw,echo=0,link=" + b))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        SocatPair pair = new SocatPair(a, b, log, p);
        long deadline = System.nanoTime() + START_NANOS;
        // socat creates the links before its transfer loop; they are its only readiness signal.
        while (!(Files.isSymbolicLink(a) && Files.isSymbolicLink(b) && Files.exists(a) && Files.exists(b))) {
            if (!p.isAlive()) {
                throw new IOException("socat exited with " + p.exitValue() + ": " + pair.log());
            }
            if (System.nanoTime() > deadline) {
                pair.close();
                throw new IOException("socat did not create " + a + " and " + b + " within 10 s: " + pair.log());
            }
            Thread.sleep(10);
        }
        return pair;
    }

    Path a() {
        return a;
    }

    Path b() {
        return b;
    }

    private String log() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8).strip() : "(no output)";
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    @Override
    public void close() throws IOException {
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
        Files.deleteIfExists(a);
        Files.deleteIfExists(b);
        Files.deleteIfExists(log);
    }
}
