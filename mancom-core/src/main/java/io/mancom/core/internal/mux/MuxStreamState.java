package io.mancom.core.internal.mux;

/**
 * The protocol state of one stream: where its half-closes stand, how it ended, and its send and
 * receive credit. {@link MuxStreamChannel} owns one; nothing writes its fields but its own
 * methods, called by the stream and its parts ({@link MuxStreamOutbound} spends and grants send
 * credit), by {@link ReceiveWindows} for receive credit and by {@link MuxStreamTable} for the
 * preamble a stream sends.
 *
 * <h2>States</h2>
 * Like Netty's {@code Http2Stream.State}, with gomux's half-close frames (named by the receiver's
 * view: CloseRead ends the peer's writing, CloseWrite stops the peer's writing):
 * <pre>
 *   IDLE --preamble--&gt; OPEN --this side sent CloseRead / peer sent CloseWrite--&gt; HALF_CLOSED_LOCAL --+
 *                        |                                                                          +--&gt; CLOSED
 *                        +--peer sent CloseRead / this side sent CloseWrite--&gt; HALF_CLOSED_REMOTE --+
 *   any state --CloseStream (peer), session end, channel closed--&gt; CLOSED
 * </pre>
 * A stream the peer opens with {@code routing = service} is {@link State#IDLE} until its service
 * preamble has arrived; every other stream starts {@link State#OPEN}. The half-closes are kept
 * apart from an abrupt end ({@link End}): a stream closed by the peer's CloseStream still knows
 * whether it had finished sending, which decides whether a later {@code shutdownOutput()} has
 * anything left to do, and whether the peer still expects a CloseStream.
 *
 * <h2>Credit</h2>
 * Send credit starts at the protocol's 64 KiB, is spent by Data frames ({@link #spend}) and
 * granted by the peer's WindowUpdates ({@link #grant}). Receive credit is what the peer may still
 * send: taken by its Data ({@link #receive}), returned as the reader consumes ({@link #consumed}),
 * which may also grow the window within the session's budget.
 *
 * <h2>Threading</h2>
 * Event loop only; not thread-safe.
 */
final class MuxStreamState {

    /** The half-close state (see the class comment). */
    enum State {
        /** Opened by the peer, waiting for its service preamble; not yet offered to the acceptor. */
        IDLE,
        /** Both directions open. */
        OPEN,
        /** This side sends no more: it sent CloseRead after its last byte, or the peer sent CloseWrite. */
        HALF_CLOSED_LOCAL,
        /** Nothing more arrives: the peer sent CloseRead, or this side sent CloseWrite. */
        HALF_CLOSED_REMOTE,
        /** Both halves closed, or the stream ended abruptly ({@link End}). */
        CLOSED
    }

    /** How a stream ended other than by its two half-closes. */
    enum End {
        /** It has not. */
        NONE,
        /** The peer sent CloseStream: close after the buffered data. */
        PEER,
        /** The session ended under it (not by this side's clean close): fail after the buffered data. */
        SESSION,
        /** The channel closed (or, unregistered, was dropped). */
        LOCAL
    }

    /** What the reader gets once it has taken the buffered data: {@link #takeInputEnd}. */
    enum InputEnd {
        /** Nothing (yet). */
        NONE,
        /** The session's failure, then the channel closes. */
        FAIL,
        /** The channel closes (the peer's CloseStream). */
        CLOSE,
        /** End of input (the peer's CloseRead). */
        EOF
    }

    // The two half-closes alone; an abrupt end is kept in `end`, so the halves stay known under it.
    private State halves;
    private End end = End.NONE;
    private boolean inputEndTaken;
    private Throwable writeFailure;
    private Throwable failure;

    private long sendCredit = MuxFrame.MAX_DATA;
    private long recvCredit = MuxFrame.MAX_DATA;
    private int recvWindow = MuxFrame.MAX_DATA;
    private long consumedSinceGrowth;

    /**
     * @param awaitingPreamble whether the stream starts {@link State#IDLE} (opened by the peer,
     *                         routed by a service preamble still to come)
     */
    MuxStreamState(boolean awaitingPreamble) {
        this.halves = awaitingPreamble ? State.IDLE : State.OPEN;
    }

    /** The state: the half-closes', or {@link State#CLOSED} after an abrupt end. */
    State state() {
        return end == End.NONE ? halves : State.CLOSED;
    }

    /** How the stream ended abruptly, if it did. */
    End end() {
        return end;
    }

    /** Whether the stream waits for its service preamble. */
    boolean awaitingPreamble() {
        return state() == State.IDLE;
    }

    /** The preamble arrived: {@code IDLE -> OPEN}. */
    void preambleTaken() {
        if (state() != State.IDLE) {
            throw new IllegalStateException("preamble taken in state " + state());
        }
        halves = State.OPEN;
    }

    // ---- half-closes

    /** Whether this side's sending is finished by a half-close (its CloseRead, or the peer's CloseWrite). */
    boolean sendHalfClosed() {
        return halves == State.HALF_CLOSED_LOCAL || halves == State.CLOSED;
    }

    /** Whether the receiving is finished by a half-close (the peer's CloseRead, or this side's CloseWrite). */
    boolean receiveHalfClosed() {
        return halves == State.HALF_CLOSED_REMOTE || halves == State.CLOSED;
    }

    /** This side sent CloseRead after its last byte. */
    void localWriteDone() {
        closeSend();
    }

    /**
     * The peer sent CloseWrite: it reads no more, so writes fail with {@code why} from now on.
     *
     * @return false if writes had already stopped (nothing changes)
     */
    boolean peerStoppedReading(Throwable why) {
        if (writeFailure != null) {
            return false;
        }
        closeSend();
        writeFailure = why;
        return true;
    }

    /** The peer sent CloseRead: end of input after the buffered data. */
    void peerWriteDone() {
        checkNotIdle("CloseRead");
        if (halves == State.OPEN) {
            halves = State.HALF_CLOSED_REMOTE;
        } else if (halves == State.HALF_CLOSED_LOCAL) {
            halves = State.CLOSED;
        }
    }

    /**
     * This side shuts its input: whether to send CloseWrite, which it does only while the peer
     * may still write (not after its CloseRead, CloseStream or the session's end).
     */
    boolean localReadDone() {
        if (end != End.NONE) {
            return false;
        }
        if (halves == State.OPEN) {
            halves = State.HALF_CLOSED_REMOTE;
            return true;
        }
        if (halves == State.HALF_CLOSED_LOCAL) {
            halves = State.CLOSED;
            return true;
        }
        return false;
    }

    private void closeSend() {
        checkNotIdle("a half-close of the sending side");
        if (halves == State.OPEN) {
            halves = State.HALF_CLOSED_LOCAL;
        } else if (halves == State.HALF_CLOSED_REMOTE) {
            halves = State.CLOSED;
        }
    }

    private void checkNotIdle(String what) {
        if (halves == State.IDLE) {
            throw new IllegalStateException(what + " while waiting for the service preamble");
        }
    }

    // ---- abrupt ends

    /** The peer sent CloseStream: writes fail with {@code why}; the channel closes after the buffered data. */
    void peerClosed(Throwable why) {
        stopWrites(why);
        if (end == End.NONE) {
            end = End.PEER;
        }
    }

    /**
     * The session ended under the stream. Not {@code clean}: writes fail and the reader gets
     * {@code why} after the buffered data. {@code clean} (this side closed the session): writes
     * fail; the channel is closing at once. {@code byPeer}: the peer's CloseMux
     * ({@link #sessionClosedByPeer}).
     */
    void sessionEnded(Throwable why, boolean clean, boolean byPeer) {
        if (byPeer && !clean) {
            sessionClosedByPeer(why);
            return;
        }
        stopWrites(why);
        if (!clean && end != End.LOCAL) {
            end = End.SESSION;
            failure = why;
        }
    }

    /**
     * The channel closes: whether to send CloseStream. Not after the peer's CloseStream or a
     * session end; after both half-closes only if the peer does not close by itself
     * ({@code peerClosesHalfClosed}: a ManCom peer closes a stream once both halves are closed,
     * a plain gomux peer may wait for CloseStream).
     */
    boolean closeLocally(boolean peerClosesHalfClosed) {
        boolean send = switch (end) {
            case NONE -> halves != State.CLOSED || !peerClosesHalfClosed;
            case PEER, SESSION, LOCAL -> false;
        };
        end = End.LOCAL;
        return send;
    }

    /**
     * The peer closed the session (CloseMux): as a session end that is not clean, except that a
     * stream the peer had finished sending on (its half-close or CloseStream came first) ends
     * cleanly after its buffered data. A peer that answers, closes and exits sends CloseMux right
     * behind its last frames; the answer must not turn into an error while it waits to be read.
     */
    void sessionClosedByPeer(Throwable why) {
        stopWrites(why);
        if (end == End.NONE) {
            if (receiveHalfClosed()) {
                end = End.PEER;
            } else {
                end = End.SESSION;
                failure = why;
            }
        }
    }

    /** Records the first reason writes fail; later ones are ignored. */
    void stopWrites(Throwable why) {
        if (writeFailure == null) {
            writeFailure = why;
        }
    }

    /** Why writes fail, or {@code null} while they may go on. */
    Throwable writeFailure() {
        return writeFailure;
    }

    /** The session's failure the reader gets after its data, or {@code null}. */
    Throwable failure() {
        return failure;
    }

    /** Whether Data from the peer is still wanted ({@code inputShut}: this side's input is shut). */
    boolean wantsData(boolean inputShut) {
        return !inputShut && end == End.NONE
                && (halves == State.IDLE || halves == State.OPEN || halves == State.HALF_CLOSED_LOCAL);
    }

    /**
     * What the reader gets now that it has taken the buffered data, once: the session's failure,
     * the peer's close, or end of input (unless this side shut its input).
     */
    InputEnd takeInputEnd(boolean inputShut) {
        if (inputEndTaken) {
            return InputEnd.NONE;
        }
        InputEnd e;
        if (end == End.SESSION) {
            e = InputEnd.FAIL;
        } else if (end == End.PEER) {
            e = InputEnd.CLOSE;
        } else if (end == End.NONE && receiveHalfClosed() && !inputShut) {
            e = InputEnd.EOF; // this side's CloseWrite shuts its input first, so it is the peer's CloseRead
        } else {
            return InputEnd.NONE;
        }
        inputEndTaken = true;
        return e;
    }

    // ---- send credit

    /** What this side may still send. */
    long sendCredit() {
        return sendCredit;
    }

    /** Whether there is send credit left. */
    boolean canSend() {
        return sendCredit > 0;
    }

    /** How much of {@code readable} bytes the next Data frame carries: within credit and the frame size. */
    int sendable(int readable) {
        return (int) Math.min(Math.min(readable, sendCredit), MuxFrame.MAX_DATA);
    }

    /**
     * Spends {@code n} bytes of credit on a Data frame.
     *
     * @return whether the credit is used up
     * @throws IllegalArgumentException if {@code n} is negative or over the credit left
     */
    boolean spend(int n) {
        if (n < 0 || n > sendCredit) {
            throw new IllegalArgumentException("cannot spend " + n + " bytes of credit with " + sendCredit + " left");
        }
        sendCredit -= n;
        return sendCredit <= 0;
    }

    /**
     * The peer granted {@code n} more bytes.
     *
     * @return whether the stream had no credit and now has some (its writes can resume)
     * @throws IllegalArgumentException if {@code n} is negative
     */
    boolean grant(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("negative credit: " + n);
        }
        boolean wasBlocked = sendCredit <= 0;
        sendCredit += n;
        return wasBlocked && sendCredit > 0;
    }

    // ---- receive credit

    /** What the peer may still send. */
    long recvCredit() {
        return recvCredit;
    }

    /** The receive window: the credit the peer has when the reader has taken everything. */
    int recvWindow() {
        return recvWindow;
    }

    /**
     * Takes {@code n} received bytes out of the receive credit.
     *
     * @return false, changing nothing, if the peer sent more than it was granted
     */
    boolean receive(int n) {
        if (n > recvCredit) {
            return false;
        }
        recvCredit -= n;
        return true;
    }

    /**
     * The reader consumed {@code n} bytes: returns the credit to grant, {@code n} and whatever the
     * window grows by. It doubles, toward {@code maxWindow} and by at most {@code budgetLeft}, when
     * the reader keeps up ({@code drained}: nothing left queued) and a whole window has gone
     * through since the last change.
     */
    long consumed(int n, boolean drained, int maxWindow, long budgetLeft) {
        long grant = n;
        consumedSinceGrowth += n;
        if (drained && consumedSinceGrowth >= recvWindow && recvWindow < maxWindow) {
            long delta = Math.min(Math.min(recvWindow, maxWindow - recvWindow), budgetLeft);
            if (delta > 0) {
                recvWindow += (int) delta;
                grant += delta;
            }
            consumedSinceGrowth = 0;
        }
        recvCredit += grant;
        return grant;
    }

    /**
     * Raises the receive window by {@code delta} at once (a WindowUpdate of {@code delta} goes to
     * the peer): the early grant of {@code mux.stream-window} right after the stream opens.
     */
    void grow(int delta) {
        recvWindow += delta;
        recvCredit += delta;
    }

    @Override
    public String toString() {
        return state() + (end != End.NONE ? " (" + end + ", halves " + halves + ")" : "")
                + ", send credit " + sendCredit + ", receive credit " + recvCredit + "/" + recvWindow;
    }
}
