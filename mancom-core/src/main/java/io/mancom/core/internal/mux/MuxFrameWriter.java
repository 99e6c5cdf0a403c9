package io.mancom.core.internal.mux;

import io.mancom.core.internal.monitor.LinkStats;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.channel.SingleThreadEventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannel;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Writes a session's frames to its link: coalesces small frames, schedules flushes, and gives
 * streams that found the link full their turns when it drains (the write side of
 * {@link MuxSessionHandler}, as {@code DefaultHttp2FrameWriter} is of Netty's HTTP/2 handler).
 *
 * <h2>Coalescing</h2>
 * Small frames (control frames, Data up to {@link MuxFrameEncoder#COPY_THRESHOLD}) are encoded into
 * one shared buffer, handed to the link (not flushed) each {@link #COALESCE_CHUNK} bytes; larger
 * Data frames go to {@link MuxFrameEncoder} behind it, in order. Anything else written to the link
 * goes behind the coalesced frames too ({@link #writeCoalesced}).
 *
 * <h2>Flushing</h2>
 * {@link #flushSoon} flushes once per batch (a read batch, a pass resuming streams) if one runs,
 * otherwise once at the end of the event-loop turn, so frames of many streams share a gathering
 * write. After each flush, over {@link #CONTROL_BACKLOG_LIMIT} bytes still queued past the link's
 * high water mark means the peer does not read: {@code peerNotReading} is told.
 *
 * <h2>Lifecycle and threading</h2>
 * Made in the session's {@code handlerAdded}; event loop only. After {@link #stop()} frames are
 * dropped (released); what was coalesced can still be written, ahead of the CloseMux.
 *
 * <h2>Buffer ownership</h2>
 * {@link #write} takes the frame: it is encoded and released, passed on to the link, or released
 * when the writer has stopped.
 */
final class MuxFrameWriter {

    /**
     * Frames may queue past the link's high water mark only this far (data frames stop at the mark;
     * only control frames pass it), so a peer that sends but never reads cannot grow memory.
     */
    static final long CONTROL_BACKLOG_LIMIT = 1 << 20;
    /** Past this size the coalescing buffer is written to the link (not flushed) and a new one started. */
    static final int COALESCE_CHUNK = 16 * 1024;

    private final ChannelHandlerContext ctx;
    private final Channel link;
    private final EventLoop loop;
    private final Runnable onWrite;
    private final Consumer<String> peerNotReading;
    private final MuxFrameLogger frames;
    private final Runnable flushTask = this::scheduledFlush;
    private final ArrayDeque<MuxStreamChannel> waitingForLink = new ArrayDeque<>();

    private ByteBuf coalesced; // small frames encoded, not yet written to the link
    // Monitoring: frames count as sent when the link is flushed with them, so frames that a closing
    // session drops unflushed (coalesced, or written and then failed by the close) are not counted.
    private int coalescedFrames; // frames in `coalesced`
    private int unflushedFrames; // frames written to the link since its last flush
    private final LinkStats stats; // the link's counters, or null when the runtime does not track it
    private boolean stopped;
    private boolean batching;
    private boolean flushPending;
    private boolean flushScheduled;
    private boolean resuming;

    /**
     * @param onWrite        runs as each frame goes out (keepalive timing); must not throw
     * @param peerNotReading told, with a message, when after a flush over
     *                       {@link #CONTROL_BACKLOG_LIMIT} bytes wait past the link's high water mark
     */
    MuxFrameWriter(ChannelHandlerContext ctx, Runnable onWrite, Consumer<String> peerNotReading, MuxFrameLogger frames) {
        this.ctx = ctx;
        this.link = ctx.channel();
        this.loop = link.eventLoop();
        this.onWrite = onWrite;
        this.peerNotReading = peerNotReading;
        this.frames = frames;
        this.stats = LinkStats.ofLink(link);
    }

    /** Writes a frame (not flushed; see {@link #flushSoon}). Ownership passes to the writer. */
    void write(MuxFrame frame) {
        if (stopped) {
            frame.release();
            return;
        }
        onWrite.run();
        frames.outbound(link, frame);
        if (MuxFrameEncoder.copies(frame)) {
            try {
                if (coalesced == null) {
                    coalesced = ctx.alloc().ioBuffer(256);
                }
                MuxFrameEncoder.encodeInto(coalesced, frame);
                coalescedFrames++;
            } finally {
                frame.release();
            }
            if (coalesced.readableBytes() >= COALESCE_CHUNK) {
                writeCoalesced();
            }
            return;
        }
        writeCoalesced(); // in order: what was written before goes first
        ctx.write(frame, ctx.voidPromise());
        unflushedFrames++;
    }

    /** Writes a frame behind everything written before and flushes, even after {@link #stop()} (the CloseMux). */
    ChannelFuture writeLast(MuxFrame frame) {
        frames.outbound(link, frame);
        writeCoalesced();
        unflushedFrames++;
        ChannelFuture f = ctx.writeAndFlush(frame);
        flushed();
        return f;
    }

    /** Writes a control frame for stream {@code id} and flushes soon. */
    void writeControl(MuxFrame.Type type, int id) {
        write(MuxFrame.control(type, id));
        flushSoon();
    }

    /** From now on frames are dropped; streams waiting for the link wait no more. */
    void stop() {
        stopped = true;
        MuxStreamChannel s;
        while ((s = waitingForLink.poll()) != null) {
            s.sendSide().leftLinkQueue();
        }
    }

    /** Starts a batch: flushes wait for {@link #endBatch()}. */
    void startBatch() {
        batching = true;
    }

    /** Ends the batch: one flush if any was asked for. */
    void endBatch() {
        batching = false;
        if (flushPending) {
            flushPending = false;
            flush();
        }
    }

    /**
     * Asks for the link to be flushed: at the end of the batch if one is running, otherwise once at
     * the end of this event-loop turn, so the frames of every stream that writes in the turn go out
     * together (one gathering write, not one syscall per frame).
     */
    void flushSoon() {
        if (batching) {
            flushPending = true;
        } else if (!flushScheduled) {
            flushScheduled = true;
            if (loop instanceof SingleThreadEventLoop l) {
                l.executeAfterEventLoopIteration(flushTask);
            } else {
                loop.execute(flushTask); // EmbeddedChannel's loop, for one
            }
        }
    }

    private void scheduledFlush() {
        flushScheduled = false;
        if (batching) {
            flushPending = true; // the batch flushes
        } else {
            flush();
        }
    }

    /**
     * Flushes the link (the coalesced frames first), then checks the control-frame backlog: with
     * the bytes flushed, what the link still holds past its high water mark is what the peer has
     * not taken. Data frames stop at the mark; only control frames pass it, so over
     * {@link #CONTROL_BACKLOG_LIMIT} of them means the peer keeps sending (opening, writing)
     * without reading the replies.
     */
    void flush() {
        flushLink();
        if (stopped || link.isWritable()) {
            return;
        }
        ChannelOutboundBuffer out = link.unsafe().outboundBuffer();
        long pastMark = out == null ? 0 : out.totalPendingWriteBytes() - link.config().getWriteBufferHighWaterMark();
        if (pastMark > CONTROL_BACKLOG_LIMIT) {
            peerNotReading.accept("the peer does not read: over " + (CONTROL_BACKLOG_LIMIT >> 10)
                    + " KiB of mux frames are queued for it");
        }
    }

    /** Flushes the link with the coalesced frames, without the backlog check of {@link #flush()}. */
    void flushLink() {
        writeCoalesced();
        ctx.flush();
        flushed();
    }

    /** The link was flushed: the frames written to it count as sent (monitoring; no allocation). */
    private void flushed() {
        if (stats != null && unflushedFrames > 0) {
            stats.framesSent(unflushedFrames);
        }
        unflushedFrames = 0;
    }

    /** Hands the coalesced frames to the link (without flushing). */
    void writeCoalesced() {
        ByteBuf b = coalesced;
        if (b == null) {
            return;
        }
        coalesced = null;
        unflushedFrames += coalescedFrames;
        coalescedFrames = 0;
        if (b.isReadable()) {
            ctx.write(b, ctx.voidPromise());
        } else {
            b.release();
        }
    }

    /**
     * Releases the coalesced frames unsent (the link is closing at once, which also fails the
     * frames written since the last flush: none of them counts as sent).
     */
    void dropCoalesced() {
        if (coalesced != null) {
            coalesced.release();
            coalesced = null;
        }
        coalescedFrames = 0;
        unflushedFrames = 0;
    }

    /**
     * On a socket link, raises the write-buffer water marks to at least {@code linkHighWater}
     * (low: at least half of the high mark). The link carries every stream; with Netty's default
     * high mark of 64 KiB, one full Data frame makes it unwritable and stops all streams until it
     * drains, and each flush sends a frame or two. Each stream keeps its own marks (its outbound
     * buffer), so an application cannot queue more than before. Other links (serial, USB) keep
     * theirs: on a slow line a deeper queue is seconds of delay for every other stream's frames.
     */
    static void deepenWaterMarks(Channel link, int linkHighWater) {
        if (!(link instanceof DuplexChannel)) {
            return;
        }
        WriteBufferWaterMark m = link.config().getWriteBufferWaterMark();
        int high = Math.max(m.high(), linkHighWater);
        int low = Math.max(m.low(), high / 2);
        if (high != m.high() || low != m.low()) {
            link.config().setWriteBufferWaterMark(new WriteBufferWaterMark(low, high));
        }
    }

    // ---- turns on a full link

    /** The stream found the link full (with a frame still to send, or having just filled it): it waits for a turn. */
    void awaitLink(MuxStreamChannel s) {
        if (s.sendSide().queueForLink()) {
            waitingForLink.add(s);
            s.sendSide().awaitTurn();
        }
    }

    /**
     * The link drained: one pass over the streams that stopped for it, in order; one that fills it
     * again goes to the back. One flush for the pass: every resumed stream's frames in one write.
     */
    void resumeWaitingStreams() {
        if (resuming) {
            return;
        }
        resuming = true;
        boolean wasBatching = batching;
        batching = true;
        try {
            int n = waitingForLink.size();
            while (n-- > 0 && link.isWritable()) {
                MuxStreamChannel s = waitingForLink.poll();
                if (s == null) {
                    break; // the session ended during the pass (a stream's turn finished a graceful close)
                }
                s.sendSide().leftLinkQueue();
                if (s.isOpen()) {
                    s.forceFlush(); // what it has queued first
                    if (!s.sendSide().waitingForLink()) {
                        s.sendSide().takeTurn(); // writable again: its writer may add to the link now
                    }
                }
            }
        } finally {
            batching = wasBatching;
            resuming = false;
        }
        if (!batching && flushPending) {
            flushPending = false;
            flush();
        }
    }
}
