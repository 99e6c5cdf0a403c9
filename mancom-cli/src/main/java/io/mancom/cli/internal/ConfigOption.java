package io.mancom.cli.internal;

import io.mancom.ManCom;
import io.mancom.spi.RuntimeOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --config FILE}: run on one explicit file instead of the system and user files. */
final class ConfigOption {
    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Use this config file instead of /etc/mancom, the user file and $MANCOM_CONFIG"
                    + " (the built-in defaults and -Dmancom.* still apply).")
    Path file;

    /** A runtime builder for the chosen configuration; the loader reports a missing file as a config error. */
    ManCom.Builder builder() {
        ManCom.Builder b = ManCom.builder();
        if (file != null) {
            b.configFile(file);
        }
        return b;
    }

    /** The same choice for loading the configuration without starting a runtime. */
    RuntimeOptions options() {
        return file == null ? RuntimeOptions.defaults() : RuntimeOptions.defaults().withConfigFile(file);
    }
}
