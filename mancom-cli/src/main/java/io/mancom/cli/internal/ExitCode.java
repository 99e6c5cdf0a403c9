package io.mancom.cli.internal;

/**
 * What the {@code mancom} process tells its caller. The codes are part of the command's contract
 * (scripts, systemd units and CI jobs test them); {@code io.mancom.cli.Main} exposes them as ints.
 */
public enum ExitCode {
    /** The command did what it was asked; also a {@code serve} stopped by SIGTERM or SIGINT. */
    OK(0),
    /** Any failure other than bad configuration, including a mistyped command line. */
    FAILURE(1),
    /** The configuration is invalid; the message names the file, line and key. */
    CONFIG(2);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    /** The process exit status. */
    public int code() {
        return code;
    }
}
