package io.mancom.core.internal.mux;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A session's lifecycle and its end: the state ({@code NEW, OPEN, CLOSING, CLOSED}), the graceful
 * close that waits for streams' queued data, the end on errors, and the closing of the link with
 * CloseMux last, lingering on a socket and giving up on a peer that stalls. Part of
 * {@link MuxSessionHandler}, whose class comment describes the ways a session ends.
 *
 * <h2>Threading</h2>
 * Event loop only, apart from {@link #termination()}, {@link #cause()} and {@link #isDone()}.
 */
final class MuxShutdown {

    private static final Logger log = LoggerFactory.getLogger(MuxSessionHandler.class);

    /** The session's state. */
    enum State { NEW, OPEN, CLOSING, CLOSED }

    private final MuxSessionHandler session;
    private final Channel link;
    private final Promise<Void> termination;

    // Event loop only.
    private State state = State.NEW;
    private ScheduledFuture<?> closeTimer;

    // Written on the loop, readable anywhere.
    private volatile Throwable cause;

    MuxShutdown(MuxSessionHandler session) {
        this.session = session;
        this.link = session.link();
        this.termination = link.eventLoop().newPromise();
    }

    State state() {
        return state;
    }

    boolean isClosed() {
        return state == State.CLOSED;
    }

    /** {@code NEW -> OPEN}: false if the session had started (or ended) already. */
    boolean start() {
        if (state != State.NEW) {
            return false;
        }
        state = State.OPEN;
        return true;
    }

    Promise<Void> termination() {
        return termination;
    }

    boolean isDone() {
        return termination.isDone();
    }

    Throwable cause() {
        return cause;
    }

    /** Starts the graceful close: no new streams; CloseMux once streams' queued data is out, or at the timeout. */
    void beginClose(Duration timeout) {
        if (state == State.CLOSED || state == State.CLOSING) {
            return;
        }
        if (state == State.NEW) {
            terminate(new ManComException(Reason.CLOSED, "session closed"), false, true, true);
            return;
        }
        state = State.CLOSING;
        session.failPendingOpens(new ManComException(Reason.CLOSED, "the mux session on " + link + " is closing"));
        closeTimer = session.ctx().executor().schedule(this::finishClose, timeout.toNanos(), TimeUnit.NANOSECONDS);
        finishCloseIfDrained();
    }

    /** A stream's queued writes are out, or it closed: a graceful close may finish. */
    void streamDone() {
        if (state == State.CLOSING) {
            finishCloseIfDrained();
        }
    }

    private void finishCloseIfDrained() {
        if (!session.table().anyQueuedWrites()) {
            finishClose();
        }
    }

    private void finishClose() {
        if (state == State.CLOSING) {
            terminate(new ManComException(Reason.CLOSED, "session closed"), true, true, true);
        }
    }

    /** Ends the session on a protocol error: CloseMux, then the link closes. */
    void protocolError(String message) {
        if (state == State.CLOSED) {
            return;
        }
        log.warn("{}: mux protocol error, ending the session: {}", link, message);
        terminate(new ManComException(Reason.PROTOCOL, message), true, false, false);
    }

    /**
     * Ends the session: streams end ({@code clean}: at once; otherwise after delivering what they
     * buffered, failing with {@code why}), CloseMux goes out after every queued frame if
     * {@code sendCloseMux}, and the link closes.
     */
    void terminate(Throwable why, boolean sendCloseMux, boolean clean, boolean success) {
        if (state == State.CLOSED) {
            return;
        }
        boolean started = state != State.NEW;
        endStreamsAndState(why, clean, success && !clean); // success without clean: the peer's CloseMux
        ChannelHandlerContext ctx = session.ctx();
        if (ctx != null) {
            if (sendCloseMux && started && link.isActive()) {
                sendCloseMuxAndClose(link.newPromise());
            } else {
                session.writer().dropCoalesced();
                ctx.close();
            }
        }
        if (success) {
            termination.trySuccess(null);
        } else {
            termination.tryFailure(why);
        }
    }

    /**
     * The link is being closed through the pipeline: the session ends cleanly (CloseMux after the
     * queued frames, without waiting for streams' queued data); {@code promise} completes when the
     * link is closed.
     */
    void linkClosing(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (state == State.CLOSED) {
            ctx.close(promise);
            return;
        }
        boolean started = state != State.NEW;
        endStreamsAndState(new ManComException(Reason.CLOSED, "session closed"), true, false);
        termination.trySuccess(null);
        if (started && link.isActive()) {
            sendCloseMuxAndClose(promise);
        } else {
            session.writer().dropCoalesced();
            ctx.close(promise);
        }
    }

    /** The session handler left the pipeline while the session ran. */
    void removed() {
        if (state != State.CLOSED) {
            endStreamsAndState(new ManComException(Reason.CLOSED, "the mux session was removed from " + link), false, false);
            termination.tryFailure(cause);
        }
    }

    /**
     * Writes CloseMux behind every queued frame, then closes the link. A socket is closed the
     * lingering way: output shut down (FIN after the last byte), input read and dropped until
     * the peer closes too, at most {@link MuxSessionHandler#LINGER}. Closing at once with unread
     * bytes in the receive buffer would make TCP send a reset, and the reset can destroy the frames
     * still in flight to the peer, the CloseMux among them.
     */
    private void sendCloseMuxAndClose(ChannelPromise promise) {
        ChannelHandlerContext c = session.ctx();
        link.closeFuture().addListener(f -> promise.trySuccess());
        session.writer().writeLast(MuxFrame.control(MuxFrame.Type.CLOSE_MUX, 0)).addListener(f -> {
            if (f.isSuccess() && link instanceof DuplexChannel d && link.isActive()) {
                d.shutdownOutput();
                ScheduledFuture<?> limit = c.executor().schedule(() -> {
                    c.close();
                }, MuxSessionHandler.LINGER.toNanos(), TimeUnit.NANOSECONDS);
                link.closeFuture().addListener(x -> limit.cancel(false));
            } else {
                c.close();
            }
        });
        closeIfStalled(c, Long.MAX_VALUE);
    }

    /**
     * Closes the link if, in a {@link MuxSessionHandler#LINGER} period, the peer has taken none of
     * the bytes still queued before the CloseMux: a slow link gets all the time it needs, a peer
     * that reads nothing cannot hold the link (and the queued frames) open.
     */
    private void closeIfStalled(ChannelHandlerContext c, long pendingBefore) {
        c.executor().schedule(() -> {
            ChannelOutboundBuffer out = link.unsafe().outboundBuffer();
            long pending = out == null ? 0 : out.totalPendingWriteBytes();
            if (!link.isOpen() || pending == 0) {
                return; // closed, or the CloseMux is out and the linger timer has taken over
            }
            if (pending >= pendingBefore) {
                log.debug("{}: the peer took nothing of the last {} bytes for {}; closing", link, pending,
                        format(MuxSessionHandler.LINGER));
                c.close();
                return;
            }
            closeIfStalled(c, pending);
        }, MuxSessionHandler.LINGER.toNanos(), TimeUnit.NANOSECONDS);
    }

    private void endStreamsAndState(Throwable why, boolean clean, boolean byPeer) {
        state = State.CLOSED;
        cause = why;
        session.ended();
        if (closeTimer != null) {
            closeTimer.cancel(false);
        }
        session.failPendingOpens(why);
        session.table().endAll(why, clean, byPeer);
    }

    static String format(Duration d) {
        long ms = d.toMillis();
        if (ms < 1000 || ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = d.getSeconds();
        return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }

    /**
     * What a failure that reached the session ends it with: the link's {@code tcp.idle-timeout} /
     * {@code read-timeout} keep their reason (the streams close with it), anything else is LINK_FAILED.
     */
    static ManComException linkFailure(Channel link, Throwable t) {
        if (t instanceof ManComException m && (m.reason() == Reason.IDLE_TIMEOUT || m.reason() == Reason.READ_TIMEOUT)) {
            return m;
        }
        return new ManComException(Reason.LINK_FAILED, "mux link " + link + " failed: " + t.getMessage(), t);
    }
}
