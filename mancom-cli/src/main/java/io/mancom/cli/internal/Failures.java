package io.mancom.cli.internal;

import io.mancom.ConfigException;
import io.mancom.ManComException;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Turns what went wrong into a message and an exit code. A user's mistake is not a program crash:
 * one line (per error) on standard error, no stack trace unless {@code --verbose}.
 */
public final class Failures {
    private Failures() {
    }

    /** A mistyped command line: say what is wrong and where the help is. */
    public static int onBadCommandLine(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        String name = cl.getCommandSpec().qualifiedName();
        cl.getErr().println(name + ": " + e.getMessage() + " (see '" + name + " --help')");
        return ExitCode.FAILURE.code();
    }

    /** A command failed: bad configuration exits {@link ExitCode#CONFIG}, anything else {@link ExitCode#FAILURE}. */
    public static int onFailure(Exception e, CommandLine cl, ParseResult parsed) {
        PrintWriter err = cl.getErr();
        Throwable t = unwrap(e);
        if (t instanceof ConfigException c) {
            // The message starts with file:line, the form editors and terminals link to; keep it first.
            err.println(c.getMessage());
            for (Throwable more : c.getSuppressed()) {
                err.println(more.getMessage());
            }
        } else {
            err.println(cl.getCommandSpec().qualifiedName() + ": " + describe(t));
        }
        if (isVerbose(parsed)) {
            t.printStackTrace(err);
        }
        err.flush();
        return (t instanceof ConfigException ? ExitCode.CONFIG : ExitCode.FAILURE).code();
    }

    private static String describe(Throwable t) {
        if (t instanceof ManComException || t instanceof IllegalArgumentException || t instanceof IllegalStateException) {
            if (t.getMessage() != null) {
                return t.getMessage();
            }
        }
        if (t instanceof java.io.IOException && t.getMessage() != null) {
            return t.getMessage();
        }
        // Anything else is a bug of ours, not a mistake of the user's: say so, and how to see more.
        return "internal error: " + t + " (run with --verbose for the stack trace)";
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException || t instanceof UncheckedIOException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static boolean isVerbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
