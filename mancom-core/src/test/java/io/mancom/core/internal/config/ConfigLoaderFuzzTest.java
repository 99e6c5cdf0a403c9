package io.mancom.core.internal.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.typesafe.config.Config;
import io.mancom.ConfigException;
import io.mancom.spi.RuntimeOptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Fuzzes the config loader with the bytes of a config file ({@code mancom config check FILE}, or
 * {@code ManCom.Builder.configFile}): the loader either returns settings or throws a
 * {@link ConfigException} that names the file and the line, in one line of text, and so does
 * every problem attached to it. Nothing else (no Typesafe exception, no runtime exception of the
 * validators, no stack overflow) may come out.
 *
 * <p>The environment and system properties are empty maps, so nothing of the machine leaks in.
 * Seeds: {@code ConfigLoaderFuzzTestInputs/load/} (docs/fuzzing.md).
 */
class ConfigLoaderFuzzTest {

    private static final Path FILE;
    /**
     * The class path's {@code reference.conf} files, parsed once: they are the same for every
     * input, and parsing them was half of each load. The file under test is still written to disk
     * and read by the loader, as {@code config check} and {@code ManCom.start} read it.
     */
    private static final Config REFERENCE = ConfigLoader.reference(ConfigLoaderFuzzTest.class.getClassLoader());

    static {
        try {
            FILE = Files.createTempDirectory("mancom-config-fuzz").resolve("mancom.conf");
            FILE.toFile().deleteOnExit();
            FILE.getParent().toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "60s")
    void load(byte[] input) throws IOException {
        // A new file each time, not the last one truncated: ext4 writes a file truncated and written
        // again out to disk when it is closed (auto_da_alloc), and the next open waited for that
        // write; on the shared build machine that was 30 ms of every 31 an input took. A file
        // deleted before its blocks were allocated never reaches the disk.
        Files.deleteIfExists(FILE);
        Files.write(FILE, input);
        RuntimeOptions options = RuntimeOptions.defaults().withConfigFile(FILE)
                .withEnvironment(Map.of()).withSystemProperties(new Properties());
        try {
            ConfigLoader.load(options, REFERENCE);
        } catch (ConfigException e) {
            check(e);
            for (Throwable t : e.getSuppressed()) {
                if (!(t instanceof ConfigException c)) {
                    throw new AssertionError("a problem that is not a ConfigException is attached", t);
                }
                check(c);
            }
        }
    }

    private static void check(ConfigException e) {
        String m = e.getMessage();
        if (m == null || m.isBlank() || m.indexOf('\n') >= 0) {
            throw new AssertionError("not a one-line message: " + m, e);
        }
        if (e.file().isEmpty() || e.line().isEmpty()) {
            throw new AssertionError("no file and line: " + m, e);
        }
    }
}
