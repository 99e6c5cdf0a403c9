package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOutboundBuffer;

import java.nio.channels.ClosedChannelException;

import io.mancom.ManComException;

/**
 * The send side of a stream: turns its flushed writes into Data frames as credit and the link
 * allow, and holds its writability back while it has no credit or waits for a turn on a full
 * link. Part of {@link MuxStreamChannel}; one per stream.
 *
 * <h2>Turns on a full link</h2>
 * A stream that finds the link full, or fills it with a frame, waits in the
 * {@link MuxFrameWriter}'s queue and is unwritable until its turn ({@link #awaitTurn}). Without
 * that, a stream whose queue drained would turn writable at once, take another write into a fresh
 * buffer and hold it until its next turn: with many streams that is one write per stream in memory
 * (64 MiB for a thousand streams of 64 KiB writes), long out of the CPU caches when the link
 * finally sends it. With it, what waits is bounded by the link's queue plus one write per stream
 * that was already writable.
 *
 * <h2>Threading</h2>
 * Event loop only, apart from {@link #held()}, which {@code isWritable()} reads anywhere.
 */
final class MuxStreamOutbound {

    // Reasons to hold writes back (bits of `held`), besides a full outbound buffer.
    static final int LINK_TURN = 1; // waiting for a turn on a full link
    static final int CREDIT = 2; // no credit left

    private final MuxStreamChannel ch;
    private volatile int held; // written on the loop, read by isWritable() anywhere
    private boolean waitingForLink;
    private boolean stalled; // counted a window stall that no WindowUpdate has ended yet
    private volatile int stalls; // window stalls (monitoring): written on the loop, read anywhere

    MuxStreamOutbound(MuxStreamChannel ch) {
        this.ch = ch;
    }

    /** The reasons writes are held back (0: none). */
    int held() {
        return held;
    }

    /**
     * Sends what {@code in} holds as Data frames, as far as credit and the link allow.
     *
     * @return whether {@code in} is empty now
     */
    boolean write(ChannelOutboundBuffer in) {
        MuxStreamState state = ch.state();
        MuxSessionHandler session = ch.session();
        boolean wrote = false;
        for (;;) {
            Object msg = in.current();
            if (msg == null) {
                break;
            }
            Throwable failure = state.writeFailure();
            if (failure != null) {
                in.remove(copyOf(failure));
                continue;
            }
            ByteBuf buf = (ByteBuf) msg;
            int readable = buf.readableBytes();
            if (readable == 0) {
                in.remove();
                continue;
            }
            if (!state.canSend()) {
                stalled(); // resumed by the peer's WindowUpdate
                break;
            }
            if (!ch.parent().isWritable()) {
                session.writer().awaitLink(ch); // resumed when the link drains
                break;
            }
            int n = state.sendable(readable);
            session.writer().write(MuxFrame.data(ch.rawId(), buf.retainedSlice(buf.readerIndex(), n)));
            wrote = true;
            if (state.spend(n)) {
                hold(CREDIT, true); // before the removal below can make it writable
            }
            if (!ch.parent().isWritable()) {
                // The link filled up with this frame: wait for a turn before the removal below
                // can make this stream writable again (see awaitTurn).
                session.writer().awaitLink(ch);
            }
            in.removeBytes(n);
        }
        if (wrote) {
            session.flushSoon();
        }
        return in.isEmpty();
    }

    /** The peer granted {@code n} more bytes: what is queued goes first, then the stream is writable (on its turn). */
    void creditGranted(int n) {
        MuxStreamState state = ch.state();
        boolean unblocked = state.grant(n);
        if (unblocked) {
            stalled = false;
        }
        if (unblocked && ch.isRegistered()) {
            ch.forceFlush(); // what is queued first
            if (state.canSend()) {
                if (!ch.parent().isWritable()) {
                    ch.session().writer().awaitLink(ch); // writable again on its turn, not while the link is full
                }
                hold(CREDIT, false);
            }
        }
    }

    /**
     * Data waits and the window is used up: one window stall (monitoring), counted once until a
     * WindowUpdate ends it however many flushes find the window empty meanwhile.
     */
    private void stalled() {
        if (!stalled) {
            stalled = true;
            stalls++; // only the loop writes it
        }
    }

    /** The window stalls so far (monitoring). Any thread. */
    int stalls() {
        return stalls;
    }

    /** Makes the stream unwritable until the session gives it a turn on the link ({@link #takeTurn()}). */
    void awaitTurn() {
        hold(LINK_TURN, true);
    }

    /** The stream's turn on the link: it is writable again as far as its own queue allows. */
    void takeTurn() {
        hold(LINK_TURN, false);
    }

    /**
     * Nothing to wait for any more (writes now fail at once): writable again, so a blocked writer
     * wakes to its failure and reads paused on writability resume.
     */
    void releaseHolds() {
        hold(LINK_TURN | CREDIT, false);
    }

    /** Puts the stream in the queue for a turn on the full link: false if it is there already. */
    boolean queueForLink() {
        if (waitingForLink) {
            return false;
        }
        waitingForLink = true;
        return true;
    }

    boolean waitingForLink() {
        return waitingForLink;
    }

    void leftLinkQueue() {
        waitingForLink = false;
    }

    /**
     * Sets or clears a reason to hold writes back. Fires the writability event at once (Netty's
     * user-defined writability would fire it in a later task): the session's turn-taking relies on
     * a stream's writer adding to the link before the next stream gets its turn.
     */
    private void hold(int reason, boolean hold) {
        boolean before = ch.isWritable();
        held = hold ? held | reason : held & ~reason;
        if (before != ch.isWritable() && ch.isRegistered()) {
            ch.pipeline().fireChannelWritabilityChanged();
        }
    }

    static Exception copyOf(Throwable cause) {
        // A fresh exception per failed write, so each promise's stack trace says where it failed.
        if (cause instanceof ManComException m) {
            return new ManComException(m.reason(), m.getMessage(), m.getCause());
        }
        ClosedChannelException e = new ClosedChannelException();
        e.initCause(cause);
        return e;
    }
}
