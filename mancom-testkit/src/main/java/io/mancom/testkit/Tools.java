package io.mancom.testkit;

import org.junit.jupiter.api.Assumptions;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Outside programs for tests and benchmarks (openssl, curl, nginx, wrk): whether they are installed, and running one to its
 * end with a bound on time. A missing tool skips the test with a message that says what to install,
 * except with {@code CI=true}, where it fails: CI installs every tool the tests use.
 */
public final class Tools {
    private Tools() {
    }

    /**
     * Skips (or, on CI, fails) the calling test unless {@code tool} is installed: a name found on the
     * PATH, or an absolute path (for programs outside it, such as {@code /usr/sbin/sshd}).
     *
     * @return the tool's absolute path, for starting it
     */
    public static String require(String tool, String debianPackage) {
        Path found = which(tool);
        String why = tool + " is not installed (apt-get install " + debianPackage + ")";
        if (found == null && "true".equals(System.getenv("CI"))) {
            throw new AssertionError(why + "; CI=true, so this is a failure, not a skip");
        }
        Assumptions.assumeTrue(found != null, why);
        return found.toString();
    }

    /** Whether an executable named {@code tool} is on the PATH. */
    public static boolean onPath(String tool) {
        return which(tool) != null;
    }

    /** The executable {@code tool} (an absolute path, or a name looked up on the PATH), or null. */
    public static Path which(String tool) {
        if (tool.startsWith("/")) {
            Path p = Path.of(tool);
            return Files.isExecutable(p) ? p : null;
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * Whether {@code command} (for example {@code nginx -v}) starts here; it is run to its end (up
     * to 10 s) with its output dropped, and its exit code does not matter.
     */
    public static boolean runs(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** What a finished program did. */
    public record Result(int exit, String out, String err) {
        /** Standard output and error together, for assertions that do not care which. */
        public String all() {
            return out + err;
        }
    }

    /**
     * Runs {@code command} in {@code dir} with {@code stdin} (may be empty) as its input and waits
     * at most {@code seconds} for it to end (then kills it and fails).
     */
    public static Result run(Path dir, byte[] stdin, int seconds, List<String> command) {
        try {
            Process p = new ProcessBuilder(command).directory(dir == null ? null : dir.toFile()).start();
            CompletableFuture<byte[]> out = drain(p.getInputStream());
            CompletableFuture<byte[]> err = drain(p.getErrorStream());
            try (var in = p.getOutputStream()) {
                in.write(stdin);
            } catch (IOException e) {
                // the program may end without reading its input
            }
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not end within " + seconds + " s");
            }
            return new Result(p.exitValue(), new String(out.join(), StandardCharsets.UTF_8),
                    new String(err.join(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Reads a stream to its end on a thread of its own. */
    public static CompletableFuture<byte[]> drain(InputStream in) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try (in) {
                in.transferTo(b);
            } catch (IOException e) {
                // the process was killed: what was read so far is the answer
            }
            f.complete(b.toByteArray());
        }, "drain");
        t.setDaemon(true);
        t.start();
        return f;
    }
}
