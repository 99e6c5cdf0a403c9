package io.mancom.testkit;

import io.mancom.ManCom;

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
        Path nowhere;
        try {
            nowhere = Files.createTempDirectory("mancom-test-config");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        nowhere.toFile().deleteOnExit();
        return ManCom.builder()
                .systemConfigDir(nowhere.resolve("etc"))
                .userConfigDir(nowhere.resolve("user"))
                .environment(Map.of())
                .systemProperties(new Properties())
                .overrides(hocon);
    }

    /** Starts an isolated runtime with {@code hocon} on top of the defaults. */
    public static ManCom start(String hocon) {
        return builder(hocon).start();
    }
}
