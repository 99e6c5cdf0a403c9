package io.mancom.core.internal.tls;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One log line per service per interval for failed server-side handshakes: a scanner or a client
 * with the wrong CA must not flood the log. The first failure is logged at once; the ones in the
 * following interval are summed into the next line. No stack traces: the reason is one phrase.
 * Thread-safe.
 */
final class FailureLog {
    private static final Logger log = LoggerFactory.getLogger("io.mancom.tls");

    private final long intervalNanos;
    private final java.util.function.LongSupplier clock;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    FailureLog(long interval, TimeUnit unit) {
        this(interval, unit, System::nanoTime);
    }

    /** With the clock given (nanoseconds), for tests. */
    FailureLog(long interval, TimeUnit unit, java.util.function.LongSupplier clock) {
        this.intervalNanos = unit.toNanos(interval);
        this.clock = clock;
    }

    private static final class Window {
        long start = Long.MIN_VALUE;
        long suppressed;
    }

    /** Counts a failure; logs it unless a line for the service was logged within the interval. @return the line logged, or null */
    String failed(String service, Object peer, Throwable cause) {
        Window w = windows.computeIfAbsent(service, k -> new Window());
        long now = clock.getAsLong();
        long before;
        synchronized (w) {
            if (w.start != Long.MIN_VALUE && now - w.start < intervalNanos) {
                w.suppressed++;
                return null;
            }
            before = w.suppressed;
            w.start = now;
            w.suppressed = 0;
        }
        String line = "service '" + service + "': TLS handshake from " + peer + " failed: " + reason(cause)
                + (before == 0 ? "" : " (and " + before + " more since the last line; counted as PROTOCOL errors)");
        log.warn("{}", line);
        return line;
    }

    /** The deepest useful message of {@code t}, one line, bounded. */
    static String reason(Throwable t) {
        String best = null;
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                best = c.getClass().getSimpleName() + ": " + c.getMessage();
                if (c instanceof javax.net.ssl.SSLException || c instanceof java.security.cert.CertificateException) {
                    break;
                }
            } else if (best == null) {
                best = c.getClass().getSimpleName();
            }
        }
        String one = best == null ? "unknown" : best.replaceAll("\\s+", " ");
        return one.length() > 240 ? one.substring(0, 240) + "..." : one;
    }
}
