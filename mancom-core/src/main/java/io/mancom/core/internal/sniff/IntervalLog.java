package io.mancom.core.internal.sniff;

import org.slf4j.Logger;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A warning that is logged at most once per interval, with the number of like events since the
 * last line: hostile or broken clients must not flood the log. Thread-safe and lock-free.
 */
public final class IntervalLog {
    private final Logger log;
    private final long intervalNanos;
    private final AtomicLong next = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong suppressed = new AtomicLong();

    public IntervalLog(Logger log, long interval, TimeUnit unit) {
        this.log = log;
        this.intervalNanos = unit.toNanos(interval);
    }

    /** Logs {@code message} (SLF4J format) at WARN, unless a line went out less than an interval ago. */
    public void warn(String message, Object... args) {
        long now = System.nanoTime();
        long due = next.get();
        if ((due != Long.MIN_VALUE && now - due < 0) || !next.compareAndSet(due, now + intervalNanos)) {
            suppressed.incrementAndGet();
            return;
        }
        long more = suppressed.getAndSet(0);
        if (log.isWarnEnabled()) {
            log.warn(more == 0 ? message : message + " (and " + more + " more since the last line)", args);
        }
    }
}
