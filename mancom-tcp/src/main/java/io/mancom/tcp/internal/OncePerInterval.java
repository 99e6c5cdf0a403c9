package io.mancom.tcp.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets a log line through at most once per interval and counts what it held back, so that a flood
 * of refusals is one line every few seconds, never one per connection. Thread-safe, lock-free.
 */
final class OncePerInterval {
    private final long intervalNanos;
    private final AtomicLong next = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong held = new AtomicLong();

    OncePerInterval(long intervalNanos) {
        this.intervalNanos = intervalNanos;
    }

    /**
     * Records one event. Returns -1 if it is not to be logged, else the number of events (this one
     * included) since the last line.
     */
    long event() {
        held.incrementAndGet();
        long now = System.nanoTime();
        long due = next.get();
        if (due != Long.MIN_VALUE && now - due < 0) {
            return -1;
        }
        if (!next.compareAndSet(due, now + intervalNanos)) {
            return -1;
        }
        return held.getAndSet(0);
    }
}
