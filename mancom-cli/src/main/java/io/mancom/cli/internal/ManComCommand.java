package io.mancom.cli.internal;

import io.mancom.cli.internal.status.StatusCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The top-level {@code mancom} command; it only holds the subcommands and the global options.
 * {@code bench} is added by {@code io.mancom.cli.Main} (from the mancom-bench jar, or a stub saying
 * where it is). The exit codes in the footer are {@link ExitCode}'s.
 */
@Command(name = "mancom",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Managed communication: one API for TCP, serial lines and USB.",
        subcommands = {DemoCommand.class, ServeCommand.class, DaemonCommand.class, StatusCommand.class, ConfigCommand.class, PortsCommand.class, ProxyCommand.class, HelpCommand.class},
        footer = {"", "Exit codes: 0 success (serve: also stopped by SIGTERM or SIGINT), 2 bad configuration, 1 any other error.",
                "Configuration: reference.conf < /etc/mancom/mancom.conf < /etc/mancom/conf.d/*.conf"
                        + " < $XDG_CONFIG_HOME/mancom/mancom.conf < $MANCOM_CONFIG < -Dmancom.*"})
public final class ManComCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    /**
     * {@code --verbose} on any command. Logging is configured from system properties when the first
     * logger is made, which is after the command line is parsed, so setting them here is in time.
     */
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Log what ManCom does (debug) and print stack traces with errors.")
    void verbose(boolean on) {
        if (on) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
            System.setProperty("org.slf4j.simpleLogger.log.io.mancom", "debug");
        }
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: choose one of demo, serve, daemon, status, config, ports, proxy, bench, help");
    }
}
