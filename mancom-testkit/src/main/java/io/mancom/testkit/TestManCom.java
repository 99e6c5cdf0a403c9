package io.mancom.testkit;

import io.mancom.ManCom;
import io.mancom.spi.RuntimeOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Runtimes for tests that see none of this machine's config: no /etc/mancom, no user file, no
 * environment, no -D properties; only the embedded defaults and the HOCON a test gives.
 */
public final class TestManCom {
    private TestManCom() {
    }

    /** A builder isolated from the machine, with {@code hocon} applied on top of the defaults. */
    public static ManCom.Builder builder(String hocon) {
        Path nowhere = tempDir();
        return ManCom.builder()
                .systemConfigDir(nowhere.resolve("etc"))
                .userConfigDir(nowhere.resolve("user"))
                .environment(Map.of())
                .systemProperties(new Properties())
                .overrides(hocon);
    }

    /** The options {@link #builder} hands the runtime: for tools that load a config without starting one. */
    public static RuntimeOptions options(String hocon) {
        Path nowhere = tempDir();
        return RuntimeOptions.defaults()
                .withSystemConfigDir(nowhere.resolve("etc"))
                .withUserConfigDir(nowhere.resolve("user"))
                .withEnvironment(Map.of())
                .withSystemProperties(new Properties())
                .withOverrides(hocon);
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("mancom-test-config");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts an isolated runtime with {@code hocon} on top of the defaults. */
    public static ManCom start(String hocon) {
        return builder(hocon).start();
    }
}
