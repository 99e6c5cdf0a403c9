package io.mancom.nativeshim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Compiles C programs the way the C API's manual says ({@code cc app.c $(pkg-config --cflags
 * --libs mancom)} with {@code PKG_CONFIG_PATH} on the distribution) and starts them.
 */
final class CPrograms {
    // Surefire passes the paths; run by hand (the benchmark), they are found from target/test-classes.
    private static final Path MODULE = moduleDir();
    static final Path DIST = Path.of(System.getProperty("mancom.dist", MODULE.resolve("target/dist").toString())).toAbsolutePath();
    static final Path SAMPLES = Path.of(System.getProperty("mancom.samples", MODULE.resolve("src/samples/c").toString())).toAbsolutePath();
    static final Path TEST_C = Path.of(System.getProperty("mancom.testc", MODULE.resolve("src/test/c").toString())).toAbsolutePath();
    private static final Path BIN = DIST.getParent().resolve("c-bin");
    /** The repository's root (README.md, docs/). */
    static final Path REPO = MODULE.getParent();
    private static final Map<Path, Path> compiled = new HashMap<>();

    private CPrograms() {
    }

    private static Path moduleDir() {
        try {
            // .../mancom-native/target/test-classes
            return Path.of(CPrograms.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent().getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path sample(String name) {
        return compile(SAMPLES.resolve(name + ".c"));
    }

    static Path test(String name) {
        return compile(TEST_C.resolve(name + ".c"));
    }

    static synchronized Path compile(Path source) {
        return compiled.computeIfAbsent(source, s -> {
            try {
                Files.createDirectories(BIN);
                String name = s.getFileName().toString().replaceAll("\\.c$", "");
                Path exe = BIN.resolve(name);
                ProcessBuilder pb = new ProcessBuilder("sh", "-c",
                        "cc -std=gnu11 -Wall -Wextra -Werror \"$0\" $(pkg-config --cflags --libs mancom) -lpthread -o \"$1\"",
                        s.toString(), exe.toString());
                pb.environment().put("PKG_CONFIG_PATH", DIST.resolve("lib/pkgconfig").toString());
                pb.redirectErrorStream(true);
                Process p = pb.start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException("cc " + s + " failed:\n" + out);
                }
                return exe;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
    }

    /** Starts {@code exe} with {@code $MANCOM_CONFIG} set to {@code config} and the test's JDK. */
    static CProcess start(Path exe, Path config, List<String> args) throws IOException {
        return start(exe, config, args, Map.of());
    }

    static CProcess start(Path exe, Path config, List<String> args, Map<String, String> env) throws IOException {
        List<String> command = new java.util.ArrayList<>();
        command.add(exe.toString());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> e = pb.environment();
        e.remove("MANCOM_JAR");
        e.put("JAVA_HOME", System.getProperty("java.home"));
        e.put("XDG_CONFIG_HOME", config.getParent().resolve("xdg").toString());   // no user config
        e.put("MANCOM_CONFIG", config.toString());
        e.put("MANCOM_JVM_OPTS", "-Xmx128m -XX:TieredStopAtLevel=1 -Xshare:auto");
        e.putAll(env);
        e.values().removeIf(String::isEmpty);
        return new CProcess(exe.getFileName().toString(), pb.start());
    }

    /** A TCP port that was free a moment ago. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Path config(Path dir, String hocon) throws IOException {
        Path f = dir.resolve("mancom.conf");
        Files.writeString(f, hocon);
        return f;
    }
}
