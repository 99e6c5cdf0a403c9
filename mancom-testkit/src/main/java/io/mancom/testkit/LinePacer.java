package io.mancom.testkit;

import java.util.concurrent.locks.LockSupport;

/**
 * The clock of one direction of a {@link SerialLineRelay}: a chunk of bytes is handed to the
 * receiver when its last bit would have arrived on a line of the profile's rate, counted from
 * when the line was last free. A line idle for longer than {@link #SLACK_NANOS} starts from now
 * (it does not bank time for a burst later); up to that much lateness of the writer thread (a
 * loaded machine wakes it late) is made up by the next chunks, so the average rate holds.
 * Not thread-safe: the direction's writer thread owns it.
 */
final class LinePacer {
    static final long SLACK_NANOS = 20_000_000;

    private final double nanosPerByte;
    private double lineFreeAt;

    LinePacer(LineProfile profile) {
        double rate = profile.bytesPerSecond();
        this.nanosPerByte = rate == 0 ? 0 : 1e9 / rate;
        this.lineFreeAt = System.nanoTime();
    }

    /** Bytes per chunk: about 5 ms of line time, 1 to 4096; 4096 when unpaced. */
    int chunk() {
        if (nanosPerByte == 0) {
            return 4096;
        }
        return (int) Math.max(1, Math.min(4096, 5e6 / nanosPerByte));
    }

    /** Waits until {@code bytes} more have crossed the line. */
    void transmit(int bytes) {
        if (nanosPerByte == 0) {
            return;
        }
        long now = System.nanoTime();
        // Relative to now so that nanoTime's arbitrary origin never meets double rounding.
        double start = Math.max(lineFreeAt - now, -SLACK_NANOS);
        double end = start + bytes * nanosPerByte;
        lineFreeAt = now + end;
        long due = now + (long) end;
        for (long wait; (wait = due - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(wait);
        }
    }
}
