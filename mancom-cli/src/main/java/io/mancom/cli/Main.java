package io.mancom.cli;

import io.mancom.cli.internal.ManComCommand;
import io.mancom.cli.internal.Failures;
import picocli.CommandLine;

import java.io.PrintWriter;

/**
 * The {@code mancom} command: {@code demo}, {@code serve}, {@code config check}, {@code bench tcp}
 * and {@code ports}. {@code mancom --help} and {@code mancom COMMAND --help} describe each.
 *
 * <h2>Exit codes</h2>
 * {@value #OK} on success, {@value #CONFIG} when the configuration is invalid (the message names
 * the file, line and key), {@value #FAILURE} for every other error, including a mistyped command
 * line. Errors are one line on standard error; {@code --verbose} adds the stack trace and raises
 * the log level from {@code warn} to {@code debug} for ManCom's own loggers.
 *
 * <h2>Embedding</h2>
 * {@link #run} runs a command line in this process with the given output streams and returns the
 * exit code instead of exiting; tests and tools use it. Not thread-safe across concurrent calls
 * that use {@code --verbose}, which sets JVM-wide logging properties.
 */
public final class Main {
    /** The exit code of a command that did what it was asked. */
    public static final int OK = 0;
    /** The exit code of any failure other than bad configuration. */
    public static final int FAILURE = 1;
    /** The exit code of a configuration error. */
    public static final int CONFIG = 2;

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
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(Failures::onBadCommandLine);
        cl.setExecutionExceptionHandler(Failures::onFailure);
        return cl;
    }
}
