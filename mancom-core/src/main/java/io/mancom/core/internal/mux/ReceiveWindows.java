package io.mancom.core.internal.mux;

/**
 * The receive side of flow control for one session: checks the peer's Data against the credit
 * granted, and decides how much credit to return as streams consume data, growing windows within
 * the session's budget. Event loop only; {@link #total()} is readable anywhere.
 *
 * <h2>Policy</h2>
 * Consumed credit is always returned in full (never held back: a gomux sender waits until a whole
 * chunk of up to 64 KiB fits, so withheld credit could stall it for good). A stream's window
 * doubles, toward {@code max-window}, when its reader keeps up (nothing left queued) and a whole
 * window has gone through since the last change: then the window, not the reader, limits the
 * stream. Windows never shrink. The sum of all windows stays within {@code receive-buffer}, apart
 * from the protocol's initial 64 KiB per stream, which bounds what the peer can make the session
 * buffer.
 */
final class ReceiveWindows {

    private final int maxWindow;
    private final long budget;
    private volatile long total;

    ReceiveWindows(MuxSettings settings) {
        this.maxWindow = settings.maxWindow();
        this.budget = settings.receiveBuffer();
    }

    /** The sum of the windows of all open streams. */
    long total() {
        return total;
    }

    void opened(MuxStreamChannel s) {
        total += s.state().recvWindow();
    }

    void closed(MuxStreamChannel s) {
        total -= s.state().recvWindow();
    }

    /**
     * Takes {@code n} received bytes out of the stream's credit.
     *
     * @throws MuxProtocolException if the peer sent more than it was granted
     */
    void received(MuxStreamChannel s, int n) {
        if (!s.state().receive(n)) {
            throw new MuxProtocolException("flow-control violation on stream " + s.streamId() + ": " + n
                    + " bytes of Data with " + s.state().recvCredit() + " bytes of credit left");
        }
    }

    /**
     * Raises a just-opened stream's window toward {@code target} (never past {@code max-window}),
     * within what is left of the budget; returns the credit to grant for it, 0 if none.
     */
    int grow(MuxStreamChannel s, int target) {
        long delta = Math.min(Math.min(target, maxWindow) - (long) s.state().recvWindow(), budget - total);
        if (delta <= 0) {
            return 0;
        }
        s.state().grow((int) delta);
        total += delta;
        return (int) delta;
    }

    /** The credit to grant now that the stream's reader consumed {@code n} bytes (growth included). */
    long consumed(MuxStreamChannel s, int n) {
        long grant = s.state().consumed(n, s.queuedBytes() == 0, maxWindow, budget - total);
        total += grant - n;
        return grant;
    }
}
