package io.mancom.nativeshim.internal;

import io.mancom.nativeshim.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread-local "last error" that {@code mancom_last_error()} returns: every failing call
 * stores its message here on the calling thread, and returns the negative code.
 */
final class Errors {
    private static final Logger log = LoggerFactory.getLogger(Errors.class);
    private static final ThreadLocal<String> LAST = ThreadLocal.withInitial(() -> "");

    private Errors() {
    }

    static int fail(ErrorCode code, String message) {
        LAST.set(message);
        return code.code();
    }

    static int fail(Throwable t) {
        ErrorCode code = ErrorCode.of(t);
        Throwable cause = ErrorCode.unwrap(t);
        String message = cause.getMessage();
        if (code == ErrorCode.EINTERNAL || message == null) {
            if (code == ErrorCode.EINTERNAL) {
                log.warn("internal error in the C API bridge", cause);
            }
            message = cause.toString();
        }
        LAST.set(message);
        return code.code();
    }

    static void set(String message) {
        LAST.set(message == null ? "" : message);
    }

    static String last() {
        return LAST.get();
    }
}
