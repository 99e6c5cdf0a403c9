package io.mancom.nativeshim.internal;

/**
 * Wakes {@code mancom_poll} callers: every change that can make a pollable handle ready (data,
 * close, writability, a connection for a listener) bumps a sequence number; a poller that scanned
 * its items at one sequence number sleeps until the number moves. One monitor for all handles:
 * signalling costs an uncontended lock when nobody polls.
 */
final class PollSignal {
    private static final Object LOCK = new Object();
    private static long seq;
    private static int waiters;

    private PollSignal() {
    }

    static long seq() {
        synchronized (LOCK) {
            return seq;
        }
    }

    static void signal() {
        synchronized (LOCK) {
            seq++;
            if (waiters > 0) {
                LOCK.notifyAll();
            }
        }
    }

    /**
     * Waits until the sequence number differs from {@code seen} or {@code deadlineNanos}
     * ({@link System#nanoTime()} based; {@link Long#MAX_VALUE} for none) passes.
     *
     * @return false on timeout
     */
    static boolean await(long seen, long deadlineNanos) throws InterruptedException {
        synchronized (LOCK) {
            waiters++;
            try {
                while (seq == seen) {
                    if (deadlineNanos == Long.MAX_VALUE) {
                        LOCK.wait();
                    } else {
                        long left = deadlineNanos - System.nanoTime();
                        if (left <= 0) {
                            return false;
                        }
                        LOCK.wait(left / 1_000_000, (int) (left % 1_000_000));
                    }
                }
                return true;
            } finally {
                waiters--;
            }
        }
    }
}
