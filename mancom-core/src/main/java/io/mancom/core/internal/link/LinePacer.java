package io.mancom.core.internal.link;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;

import java.util.concurrent.TimeUnit;

/**
 * Paces a session's new DATA frames at the line rate: a token bucket of {@code burst} bytes
 * filled at {@code lineRate} bytes per second. A frame that finds too little credit waits; the
 * pacer then wakes the writes ({@code wake}) when it may go. Frames sent again go at once but
 * take their line time from the credit, so the new frames behind them wait for it.
 *
 * <p>Threading: the session's event loop only. No buffers.
 */
final class LinePacer {
    private final EventLoop loop;
    private final long lineRate;
    private final Runnable wake;
    private long burst;
    private double credit;
    private long creditAt;
    private ScheduledFuture<?> wakeUp;

    /**
     * @param lineRate bytes per second; 0 paces nothing
     * @param burst    the most bytes that may go back to back after an idle time
     */
    LinePacer(EventLoop loop, long lineRate, long burst, Runnable wake) {
        this.loop = loop;
        this.lineRate = lineRate;
        this.burst = burst;
        this.credit = burst;
        this.wake = wake;
    }

    long lineRate() {
        return lineRate;
    }

    long burst() {
        return burst;
    }

    /**
     * A new burst size (the frame size changed). A larger one adds the difference to the credit: a
     * sender that takes credit as soon as a frame's worth is there stays as far ahead of the line
     * as the burst lets it be when it starts, so without it the lead stayed at what the small
     * first frames gave (none, once they grew past it), and every late wake-up of the loop left the
     * line idle. A smaller one caps the credit.
     */
    void burst(long bytes) {
        if (bytes > burst) {
            credit += bytes - burst;
        }
        burst = bytes;
        credit = Math.min(credit, burst);
    }

    /** Whether {@code bytes} on the wire may go now; if not, {@code wake} runs when they may. */
    boolean take(int bytes, long now) {
        if (lineRate <= 0) {
            return true;
        }
        credit = Math.min(burst, credit + (now - creditAt) * (double) lineRate / 1e9);
        creditAt = now;
        // A frame larger than the burst (the frame size grew after the burst was set) waits for a
        // full burst and overdraws: the debt delays what follows, so the rate holds. Waiting for
        // credit the cap never allows stalled the link for good.
        double need = Math.min(bytes, burst);
        if (credit >= need) {
            credit -= bytes;
            return true;
        }
        if (wakeUp == null) {
            long delay = (long) ((need - credit) * 1e9 / lineRate) + 1;
            wakeUp = loop.schedule(() -> {
                wakeUp = null;
                wake.run();
            }, delay, TimeUnit.NANOSECONDS);
        }
        return false;
    }

    /** {@code bytes} went on the wire without asking (a frame sent again): later frames wait for them. */
    void charge(int bytes) {
        if (lineRate > 0) {
            credit -= bytes;
        }
    }

    void cancel() {
        if (wakeUp != null) {
            wakeUp.cancel(false);
            wakeUp = null;
        }
    }
}
