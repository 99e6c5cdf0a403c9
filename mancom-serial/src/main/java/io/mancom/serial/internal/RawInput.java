package io.mancom.serial.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Clears BRKINT on an open line, which jSerialComm sets on every port it configures (outside
 * RS-485 mode) and offers no call to clear.
 *
 * <p>Why it matters: with BRKINT a break on the line flushes the terminal's input and output
 * queues (data lost), and it keeps the kernel's line discipline off its raw fast path. Linux's
 * n_tty copies received bytes with memcpy only when no input flag asks it to look at them
 * ({@code real_raw}: no BRKINT, PARMRK, ISTRIP, ICRNL, IXON..., and a driver that allows it,
 * as ptys and USB serial adapters do); with BRKINT it handles every byte one by one in the kernel
 * worker that moves data from the driver to the line. On a socat pty pair at 40-65 MB/s that
 * cost about 15 % of the receiving throughput (plain {@code head -c} reader, BRKINT on against
 * off, 9 alternating pairs). After this, a break reads as a 0 byte (or is dropped on the fast
 * path), as with {@code cfmakeraw} and {@code stty raw}.
 *
 * <p>Java has no termios call, so this runs {@code stty -F device -brkint} ({@code -f} on macOS),
 * once per open, on the opening (blocking) thread, before the first read. If that fails (no
 * {@code stty}, an odd platform) the line works as before; it is logged once. Not on Windows.
 */
final class RawInput {
    private static final Logger log = LoggerFactory.getLogger(RawInput.class);
    private static final AtomicBoolean warned = new AtomicBoolean();
    private static final long WAIT_SECONDS = 5;

    private RawInput() {
    }

    /** Clears BRKINT on {@code device}, which this process has open; best effort. */
    static void clearBreakInterrupt(String device) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("windows")) {
            return;
        }
        String flag = os.contains("mac") || os.contains("bsd") ? "-f" : "-F";
        String problem;
        try {
            Process p = new ProcessBuilder("stty", flag, device, "-brkint").redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                problem = "stty did not finish in " + WAIT_SECONDS + " s";
            } else if (p.exitValue() != 0) {
                problem = "stty exited with " + p.exitValue() + (out.isEmpty() ? "" : ": " + out);
            } else {
                return;
            }
        } catch (IOException e) {
            problem = e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem = "interrupted";
        }
        if (warned.compareAndSet(false, true)) {
            log.warn("serial port {}: could not clear BRKINT with stty ({}); the line works, but a break on it flushes "
                    + "what was received, and receiving is slower. Reported once.", device, problem);
        } else {
            log.debug("serial port {}: could not clear BRKINT with stty ({})", device, problem);
        }
    }
}
