package io.mancom.core.internal;

import io.mancom.ManComException;
import io.mancom.WritabilityListener;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The last handler of every link's pipeline: turns Netty events into connection events for the
 * connection's {@link Inbound} (the callback or the blocking API). It also holds the two small
 * optimisations of the hot path: flushes are deferred to the end of a read batch, and a buffer
 * that a receiver writes straight back (echo) is sent without a copy.
 *
 * <p>It counts the bytes it hands on for the connection's monitoring ({@link ChannelConnection}
 * is the connection's counters), one clock reading per read batch, and keeps what the close cause
 * is made of: the failure that reached it, whether the peer ended its input, whether this side
 * closed. Of the outbound operations it takes part in {@code close} only (Netty skips it for the
 * others).
 */
final class ConnectionHandler extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(ConnectionHandler.class);

    private final ChannelConnection connection;
    private final Inbound inbound;
    private boolean started;
    private boolean closed;
    private volatile boolean inputShutdown;
    private volatile boolean closedHere;
    private Throwable cause;
    private volatile Throwable pipelineFailure; // the first exception that reached this handler

    // The buffer lent to a receiver during onData, so write() can recognise it. Loop-only.
    private ByteBuf lent;
    private ByteBuffer lentView;
    private int lentViewPosition;
    private boolean inReadBatch;
    private boolean flushPending;

    ConnectionHandler(ChannelConnection connection, Inbound inbound) {
        this.connection = connection;
        this.inbound = inbound;
    }

    Inbound inbound() {
        return inbound;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (started) {
            return;
        }
        started = true;
        inbound.opened(connection);
        if (connection.gate.isOpen()) {
            connection.channel().config().setAutoRead(true);
            connection.channel().read();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf b) {
            connection.received(b.readableBytes() + connection.framingOverhead);
        }
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            ctx.fireExceptionCaught(new IllegalStateException("unexpected message " + msg.getClass().getName()));
            return;
        }
        if (closed || !buf.isReadable()) {
            buf.release();
            return;
        }
        inReadBatch = true;
        inbound.data(connection, buf);
    }

    /**
     * A view of {@code buf} for a receiver's onData that {@link #lentBufferFor} recognises. The
     * caller keeps ownership of {@code buf}; clear with {@link #endLoan()}.
     */
    ByteBuffer lend(ByteBuf buf) {
        lent = buf;
        lentView = buf.nioBufferCount() == 1 ? buf.nioBuffer() : ByteBuffer.wrap(ByteBufUtil.getBytes(buf)).asReadOnlyBuffer();
        lentViewPosition = lentView.position();
        return lentView;
    }

    void endLoan() {
        lent = null;
        lentView = null;
    }

    /**
     * If {@code data} is the view lent to the running onData, a retained slice of the lent buffer
     * covering exactly the view's remaining bytes; otherwise null (the caller copies).
     */
    ByteBuf lentBufferFor(ByteBuffer data) {
        if (data != lentView || data == null || !connection.channel().eventLoop().inEventLoop()) {
            return null;
        }
        int offset = data.position() - lentViewPosition;
        return lent.retainedSlice(lent.readerIndex() + offset, data.remaining());
    }

    /** Whether a write made now may leave its flush to the end of the read batch. */
    boolean deferFlush() {
        if (inReadBatch) {
            flushPending = true;
            return true;
        }
        return false;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        boolean delivered = inReadBatch;
        inReadBatch = false;
        connection.readBatchEnded();
        if (flushPending) {
            flushPending = false;
            connection.flushing();
            ctx.flush();
        }
        if (delivered && !closed) {
            inbound.readComplete(connection);
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        if (connection.pausesWhenUnwritable()) {
            // A served callback connection stops reading while its peer is not taking our writes:
            // an echo-like service then cannot queue without bound for a peer that never reads.
            if (writable) {
                connection.gate.open(ReadGate.UNWRITABLE);
            } else {
                connection.gate.close(ReadGate.UNWRITABLE);
            }
        }
        WritabilityListener l = connection.writabilityListener();
        if (l != null) {
            try {
                l.onWritabilityChanged(connection, writable);
            } catch (RuntimeException e) {
                log.warn("writability listener of {} threw", connection, e);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ChannelInputShutdownEvent.INSTANCE && !inputShutdown) {
            inputShutdown = true;
            if (!closed) {
                inbound.inputShutdown(connection);
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
        if (pipelineFailure == null) {
            pipelineFailure = t;
        }
        recordCause(t);
        ctx.close();
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (ctx.channel().isActive()) {
            closedHere = true;
        }
        ctx.close(promise);
    }

    /** The first failure that reached the pipeline's end, or null (monitoring's close cause). */
    Throwable failure() {
        return pipelineFailure;
    }

    /** Whether this side closed the channel while it was active. */
    boolean closedHere() {
        return closedHere;
    }

    /** Whether the peer ended its input (before the close). */
    boolean inputShut() {
        return inputShutdown;
    }

    void recordCause(Throwable t) {
        if (cause == null) {
            cause = t;
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fireClosed();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        fireClosed();
    }

    private void fireClosed() {
        if (closed) {
            return;
        }
        closed = true;
        inbound.closed(connection, describe(cause));
    }

    private Throwable describe(Throwable t) {
        if (t == null || t instanceof ManComException || !(t instanceof IOException)) {
            return t;
        }
        return new ManComException(ManComException.Reason.LINK_FAILED,
                "connection #" + connection.id() + " (service '" + connection.service() + "', " + connection.remote()
                        + ") failed: " + t.getMessage(), t);
    }
}
