package io.mancom.daemon.internal;

import io.mancom.Connection;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * One connection of a relayed service (the whole line of a {@code mux = off} device, or one
 * stream the far end opened on a {@code mux = on} line) and, while a process serves it, the mux
 * stream on that process's attach connection that carries its bytes.
 *
 * <h2>Lifecycle</h2>
 * Created when the runtime accepts the connection, paused at once, and given to its
 * {@link RelayedService}, which holds it or hands it to a process ({@link #handTo}). Bound when the
 * stream is active: the bytes read meanwhile go first, then reading resumes. When the stream
 * closes because its process went away, the whole line of a device goes back to held (the device
 * stays open and unread); any other end of the stream closes the connection. When the connection
 * closes, the stream closes. Close and half-close travel both ways.
 *
 * <h2>Backpressure</h2>
 * Device to process: past the stream's high water mark (or without credit) the connection is
 * paused, and resumed when the stream is writable again. Process to device: while the connection is
 * not writable, the stream's auto-read is off (the mux then stops the process after one window).
 *
 * <h2>Threading</h2>
 * Connection callbacks run on the runtime's loop, stream events on the attach connection's loop;
 * for a device these are one loop ({@link RelayOwner} moves attach connections there), and then
 * device bytes go to the stream as they are read, with no task. The binding ({@code stream}, the
 * device bytes not yet relayed) is guarded by {@code this}. Device bytes are queued under it and
 * written to the stream only on the stream's loop, in batches when that is another loop (one task
 * and one flush for all the reads queued meanwhile), so they keep their order across a rebinding;
 * past {@link #QUEUE_HIGH} queued bytes the device is paused until the loop takes them.
 *
 * <h2>Buffer ownership</h2>
 * Device bytes are copied into a buffer of our own (the runtime lends its buffer for the call);
 * that buffer goes to the stream, which releases it, or is released here if the relay closes
 * first. Stream buffers are copied into the connection's write queue and released at once.
 */
final class Relay {
    private static final Logger log = LoggerFactory.getLogger(Relay.class);
    /** Device bytes queued for the stream's loop past which the device is paused until it takes them. */
    static final int QUEUE_HIGH = 256 * 1024;

    final Connection connection;
    final RelayedService service;
    /** The whole line of a {@code mux = off} device: held again, never closed, when its process goes. */
    final boolean wholeLine;

    // Guarded by this.
    private MuxStreamChannel stream;
    private Attachment attachment;
    private final ArrayDeque<ByteBuf> unsent = new ArrayDeque<>();
    private int unsentBytes;
    private boolean drainScheduled;
    private boolean inputShut;
    private boolean outputShutSent;
    /**
     * Whether this relay has paused the connection and not resumed it since: the drain resumes only
     * then, so a drain that finds the device reading costs no task on the runtime's loop. The owner
     * pauses every connection as it accepts it.
     */
    private boolean paused = true;
    private boolean closed;
    private ScheduledFuture<?> holdTimer;

    Relay(Connection connection, RelayedService service, boolean wholeLine) {
        this.connection = connection;
        this.service = service;
        this.wholeLine = wholeLine;
    }

    // ---- device side (the runtime's loop)

    void onData(ByteBuffer data) {
        ByteBuf copy = ByteBufAllocator.DEFAULT.buffer(data.remaining());
        copy.writeBytes(data.duplicate());
        MuxStreamChannel s;
        synchronized (this) {
            if (closed) {
                copy.release();
                return;
            }
            unsent.add(copy);
            unsentBytes += copy.readableBytes();
            s = stream;
            if (s == null) {
                // Held, or its stream is opening: keep what the runtime read before the pause took
                // effect (at most one read batch), and read no more.
                pause();
                return;
            }
            if (unsentBytes >= QUEUE_HIGH) {
                pause(); // the drain decides when to read on
            }
            if (drainScheduled) {
                return;
            }
            drainScheduled = true;
        }
        drainOn(s);
    }

    /**
     * Runs {@link #drain} now if the stream shares this thread's loop (the owner moves attach
     * connections onto its device's loop: no task, no wake-up of another thread per read), or as
     * a task on the stream's loop.
     */
    private void drainOn(MuxStreamChannel s) {
        if (s.eventLoop().inEventLoop()) {
            drain(s);
        } else {
            s.eventLoop().execute(() -> drain(s));
        }
    }

    void onInputShutdown() {
        MuxStreamChannel s;
        synchronized (this) {
            inputShut = true;
            s = stream;
            if (s == null || drainScheduled) {
                return; // the stream gets it after the bytes, when bound or drained
            }
            drainScheduled = true;
        }
        drainOn(s);
    }

    /**
     * Writes the device bytes queued so far to the stream with one flush (the attach connection's
     * loop): a device delivers small reads, and one task and one flush per read would cost the
     * relay more than the copy. Then reads on if the stream can take more, or pauses until it can.
     */
    private void drain(MuxStreamChannel s) {
        assert s.eventLoop().inEventLoop();
        ByteBuf[] batch;
        boolean shut;
        synchronized (this) {
            drainScheduled = false;
            if (stream != s) {
                // Unbound or closed: the bytes wait for the next stream, or were released. A stream
                // bound since may have seen this drain pending and left the bytes to it.
                MuxStreamChannel now = stream;
                if (now != null && (!unsent.isEmpty() || inputShut && !outputShutSent)) {
                    drainScheduled = true;
                    now.eventLoop().execute(() -> drain(now));
                }
                return;
            }
            batch = unsent.toArray(new ByteBuf[0]);
            unsent.clear();
            unsentBytes = 0;
            shut = inputShut && !outputShutSent;
            outputShutSent |= shut;
        }
        for (ByteBuf b : batch) {
            s.write(b, s.voidPromise());
        }
        s.flush();
        if (shut) {
            s.shutdownOutput();
        }
        if (s.isWritable()) {
            resume();
        } else {
            synchronized (this) {
                pause(); // channelWritabilityChanged resumes
            }
        }
    }

    /**
     * Stops reading the connection (under {@code this}). From the runtime's loop the gate closes at
     * once; from the stream's loop it closes in a task, which a later {@link #resume} from the same
     * loop follows.
     */
    private void pause() {
        assert Thread.holdsLock(this);
        paused = true;
        connection.pauseReading();
    }

    /** Reads the connection again if this relay paused it: otherwise nothing, and no task. */
    private void resume() {
        synchronized (this) {
            if (!paused) {
                return;
            }
            paused = false;
        }
        connection.resumeReading();
    }

    void onClose() {
        MuxStreamChannel s;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            s = stream;
            stream = null;
            releaseUnsent();
            cancelHoldTimer();
        }
        service.closed(this);
        if (s != null) {
            s.close();
        }
    }

    /** The connection became writable again (runtime's loop): the process's bytes may flow again. */
    void onConnectionWritable() {
        MuxStreamChannel s;
        synchronized (this) {
            s = stream;
        }
        if (s != null) {
            s.eventLoop().execute(() -> {
                if (connection.isWritable()) {
                    s.config().setAutoRead(true);
                }
            });
        }
    }

    // ---- held and handed over

    synchronized void holdTimer(ScheduledFuture<?> timer) {
        cancelHoldTimer();
        holdTimer = closed ? null : timer;
        if (closed) {
            timer.cancel(false);
        }
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** Opens a stream on {@code to}'s session; {@code failed} runs if it cannot be opened. */
    void handTo(Attachment to, Runnable failed) {
        synchronized (this) {
            if (closed) {
                return;
            }
            cancelHoldTimer();
            attachment = to;
        }
        to.session.openStream(service.name, new StreamSide(to)).addListener(f -> {
            if (!f.isSuccess()) {
                log.debug("service '{}': cannot open a stream on the {}: {}", service.name, to, f.cause().toString());
                synchronized (this) {
                    if (attachment == to) {
                        attachment = null;
                    }
                }
                failed.run();
            }
        });
    }

    /** The stream is active (attach loop): the held bytes first, then the connection is read again. */
    private void bound(MuxStreamChannel s, Attachment to) {
        synchronized (this) {
            if (closed || attachment != to) {
                s.close();
                return;
            }
            stream = s;
            outputShutSent = false;
        }
        // A stream's own default marks (32/64 KiB) would pause the device after every read batch.
        s.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(256 * 1024, 512 * 1024));
        service.handedOver(this, to);
        drain(s);
    }

    /** The stream has closed (attach loop). */
    private void unbound(MuxStreamChannel s, Attachment from) {
        try {
            rebind(s, from);
        } finally {
            service.streamEnded();
        }
    }

    private void rebind(MuxStreamChannel s, Attachment from) {
        boolean again;
        synchronized (this) {
            if (stream != s) {
                return;
            }
            stream = null;
            attachment = null;
            if (closed) {
                return;
            }
            // A stream ended by its session (the process detached or died) carries the session's
            // reason; one the process closed itself ends cleanly.
            boolean processGone = s.closeCause() != null || !from.isActive();
            again = wholeLine && processGone;
            if (again) {
                pause();
            }
        }
        if (again) {
            log.debug("service '{}': {} went away; holding {} (the device stays open, unread)",
                    service.name, from, connection);
            service.hold(this);
        } else {
            connection.close();
        }
    }

    private void releaseUnsent() {
        ByteBuf b;
        while ((b = unsent.poll()) != null) {
            b.release();
        }
        unsentBytes = 0;
    }

    private void cancelHoldTimer() {
        if (holdTimer != null) {
            holdTimer.cancel(false);
            holdTimer = null;
        }
    }

    @Override
    public String toString() {
        return "relay of " + connection;
    }

    /** The last handler of the stream's pipeline: the process's side of the relay. */
    private final class StreamSide extends ChannelInboundHandlerAdapter {
        private final Attachment to;

        StreamSide(Attachment to) {
            this.to = to;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            // The process's half-close must reach the device side, not close the stream.
            ctx.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            bound((MuxStreamChannel) ctx.channel(), to);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof ByteBuf b && b.isReadable()) {
                    // write copies before it returns; a failure (closed, queue full) ends the relay.
                    connection.write(b.nioBuffer()).whenComplete((v, e) -> {
                        if (e != null && connection.isOpen()) {
                            log.debug("service '{}': write to {} failed: {}", service.name, connection, e.toString());
                            connection.close();
                        }
                    });
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
            if (!connection.isWritable()) {
                ctx.channel().config().setAutoRead(false);
                // The connection may have drained before auto-read went off: its event would be lost.
                if (connection.isWritable()) {
                    ctx.channel().config().setAutoRead(true);
                }
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                // A serial line has no half-close: its connection stays open for reading.
                connection.shutdownOutput().whenComplete((v, e) -> {
                    if (e != null) {
                        log.debug("service '{}': {} has no half-close: {}", service.name, connection, e.toString());
                    }
                });
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                resume();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            unbound((MuxStreamChannel) ctx.channel(), to);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // The stream's end (the session ended, the peer stopped reading); channelInactive follows.
            log.debug("service '{}': stream {}: {}", service.name, ctx.channel(), cause.toString());
        }
    }
}
