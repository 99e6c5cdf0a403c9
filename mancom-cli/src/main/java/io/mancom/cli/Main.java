package io.mancom.cli;

import io.mancom.cli.internal.BenchNotInstalled;
import io.mancom.cli.internal.ExitCode;
import io.mancom.cli.internal.Failures;
import io.mancom.cli.internal.ManComCommand;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.util.Iterator;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The {@code mancom} command: {@code demo}, {@code serve}, {@code status}, {@code config check}, {@code ports} and
 * {@code help}, plus the subcommands other jars add ({@link ManComSubcommand}: {@code bench} when the
 * mancom-bench jar is on the class path). {@code mancom --help} and {@code mancom help COMMAND}
 * describe each.
 *
 * <h2>Exit codes</h2>
 * 0 ({@link #OK}) on success, and when {@code serve} is stopped by SIGTERM or SIGINT; 2
 * ({@link #CONFIG}) when the configuration is invalid (the message names the file, line and key);
 * 1 ({@link #FAILURE}) for every other error, including a mistyped command line. Errors are one
 * line on standard error; {@code --verbose} adds the stack trace and raises the log level.
 *
 * <h2>Embedding</h2>
 * {@link #run} runs a command line in this process with the given output streams and returns the
 * exit code instead of exiting; tests and tools use it. Not thread-safe across concurrent calls
 * that use {@code --verbose}, which sets JVM-wide logging properties.
 */
public final class Main {
    /** The exit code of a command that did what it was asked. */
    public static final int OK = ExitCode.OK.code();
    /** The exit code of any failure other than bad configuration. */
    public static final int FAILURE = ExitCode.FAILURE.code();
    /** The exit code of a configuration error. */
    public static final int CONFIG = ExitCode.CONFIG.code();

    private Main() {
    }

    /** Runs the command line and exits the JVM with its exit code. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(run(out, err, args));
    }

    /**
     * Runs one command line in this process.
     *
     * @return the exit code ({@link #OK}, {@link #FAILURE} or {@link #CONFIG})
     */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return commandLine(out, err).execute(args);
    }

    /** The picocli command line of {@code mancom}, writing to {@code out} and {@code err}. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new ManComCommand());
        Iterator<ManComSubcommand> found = ServiceLoader.load(ManComSubcommand.class, Main.class.getClassLoader()).iterator();
        while (true) {
            try {
                if (!found.hasNext()) {
                    break;
                }
                cl.addSubcommand(found.next());
            } catch (ServiceConfigurationError | CommandLine.InitializationException broken) {
                // A broken jar on the class path costs its own command, not the others.
                err.println("mancom: a subcommand could not be loaded and is left out: " + broken.getMessage());
            }
        }
        if (!cl.getSubcommands().containsKey("bench")) {
            // Say where the benchmarks went instead of "unmatched argument".
            cl.addSubcommand(new BenchNotInstalled());
        }
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(Failures::onBadCommandLine);
        cl.setExecutionExceptionHandler(Failures::onFailure);
        return cl;
    }
}
