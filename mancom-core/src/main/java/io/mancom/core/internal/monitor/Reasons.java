package io.mancom.core.internal.monitor;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.internal.mux.MuxProtocolException;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;

/** The {@link Reason} a failure is counted under in {@code errors} and {@code mancom_errors_total}. */
final class Reasons {
    private Reasons() {
    }

    static Reason of(Throwable t) {
        if (t instanceof ManComException m) {
            return m.reason();
        }
        if (t instanceof MuxProtocolException) {
            return Reason.PROTOCOL;
        }
        if (t instanceof ClosedChannelException) {
            return Reason.CLOSED;
        }
        if (t instanceof TimeoutException) {
            return Reason.TIMEOUT;
        }
        if (t instanceof IOException) {
            return Reason.LINK_FAILED;
        }
        return Reason.IO;
    }

    /** {@code t} as a ManComException (itself, or wrapped with its reason). */
    static ManComException asManCom(Throwable t) {
        if (t instanceof ManComException m) {
            return m;
        }
        return new ManComException(of(t), String.valueOf(t.getMessage()), t);
    }
}
