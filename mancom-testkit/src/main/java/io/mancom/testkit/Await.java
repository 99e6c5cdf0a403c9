package io.mancom.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition that another thread makes true: checks it every millisecond until it
 * holds, and fails with {@code what} once the deadline has passed. For tests that have no event
 * to wait on; never a sleep for ordering.
 */
public final class Await {
    /** The wait of {@link #until(String, BooleanSupplier)}: long enough for a loaded build machine. */
    public static final Duration DEFAULT = Duration.ofSeconds(30);

    private Await() {
    }

    /** Waits up to {@link #DEFAULT} for {@code condition}; an {@link AssertionError} naming {@code what} if it never holds. */
    public static void until(String what, BooleanSupplier condition) {
        until(what, DEFAULT, condition);
    }

    /** Waits up to {@code timeout} for {@code condition}; an {@link AssertionError} naming {@code what} if it never holds. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + what, e);
            }
        }
    }
}
