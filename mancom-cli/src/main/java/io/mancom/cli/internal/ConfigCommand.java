package io.mancom.cli.internal;

import io.mancom.spi.RuntimeOptions;
import io.mancom.core.spi.ConfigTools;
import io.mancom.core.spi.RuntimeSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code mancom config}: holds {@code check}. */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = "Inspect the configuration.",
        subcommands = ConfigCommand.Check.class)
final class ConfigCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: mancom config check [FILE]");
    }

    /**
     * {@code mancom config check [FILE]}: loads and validates the configuration, prints every layer,
     * every service with its endpoint and where each value came from. Every problem found is printed
     * (one line each, file:line: key: message) and the exit code is 2.
     */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Validate the configuration and show where each value came from.",
                    "",
                    "Prints the layers (present or absent), then each service with its endpoint and every value with"
                            + " the file and line that set it. Without FILE it checks the effective configuration (every"
                            + " layer); with FILE, the built-in defaults plus FILE only.",
                    "",
                    "When the configuration is invalid it prints each problem as FILE:LINE: KEY: message on standard"
                            + " error and exits 2."})
    static final class Check implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Parameters(arity = "0..1", paramLabel = "FILE", description = "A config file to check on its own.")
        private Path file;

        @Override
        public Integer call() {
            RuntimeSettings settings = file == null ? ConfigTools.load(RuntimeOptions.defaults()) : ConfigTools.loadFile(file);
            io.mancom.proxy.ProxyConfig.checkServices(settings); // handler = http-proxy: its keys
            PrintWriter out = spec.commandLine().getOut();
            out.print(ConfigTools.report(settings));
            out.println();
            PeerFilterReport.print(settings, out); // tcp.allow / tcp.deny: in the kernel or after accept
            int n = settings.services().size();
            out.println("OK: " + n + (n == 1 ? " service" : " services")
                    + (n == 0 ? "" : " (" + String.join(", ", settings.services().keySet()) + ")"));
            out.flush();
            return 0;
        }
    }
}
