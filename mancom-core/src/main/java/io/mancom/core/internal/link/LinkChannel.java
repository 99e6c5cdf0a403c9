package io.mancom.core.internal.link;

import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.buffer.ByteBuf;

import java.net.SocketAddress;

/**
 * The channel everything above a reliable link runs on (the mux, framing, a connection): a
 * virtual channel whose bytes travel in the frames of a {@link ReliableSession}, so it outlives
 * the links below it. It is active from registration until closed; while the session is waiting
 * for a new link below (resumption) it stays open, and writes wait in its outbound buffer.
 *
 * <p>Threading: the session's event loop. Buffers: writes are {@link ByteBuf}s, owned by the
 * channel until the session has cut them into frames; reads are payloads the reader owns.
 * Errors: a session that fails fires {@code exceptionCaught} with the cause (a
 * {@link io.mancom.ManComException}) and closes the channel; {@link #closeCause()} keeps it.
 *
 * <p>Lifecycle: the channel closes when its session ends, however it ends (closed here or by the
 * peer, link lost, resume timeout, refused), even if a handler would hold the close back for its
 * last writes: the session sends nothing any more, so what is queued is released then, and later
 * writes are released by the closed channel. If the event loop ends first (the runtime closed),
 * the channel releases what it queued and counts as closed.
 */
final class LinkChannel extends AbstractChannel {
    private static final ChannelMetadata METADATA = new ChannelMetadata(false, 16);

    private final ReliableSession session;
    private final DefaultChannelConfig config = new DefaultChannelConfig(this);
    private final SocketAddress local;
    private final SocketAddress remote;
    private volatile boolean open = true;
    private volatile Throwable closeCause;

    LinkChannel(ReliableSession session, SocketAddress local, SocketAddress remote) {
        super(null);
        this.session = session;
        this.local = local;
        this.remote = remote;
        watchLoop(true);
    }

    /**
     * Releases what the session and the channel hold when the loop ends before the session did
     * (a closed channel's session may still be sending what is unacknowledged); forgotten at its end.
     */
    private final io.netty.util.concurrent.GenericFutureListener<io.netty.util.concurrent.Future<Object>> loopEnded = f -> {
        open = false;
        session().loopEnded();
        dropQueuedWrites();
    };

    /**
     * The loop shuts down (the runtime closes) before the session ended: it ends there, so the
     * channel closes on its loop and its handlers release what they hold (a decoder's partial frame).
     * A real socket is closed so by its loop's I/O handler; nothing else closes this channel.
     */
    private final Runnable loopShuttingDown = () -> session().loopShuttingDown();

    private void watchLoop(boolean on) {
        try {
            if (on) {
                session.loop.terminationFuture().addListener(loopEnded);
            } else {
                session.loop.terminationFuture().removeListener(loopEnded);
            }
        } catch (UnsupportedOperationException e) {
            // EmbeddedEventLoop (tests): it never ends
        }
        if (session.loop instanceof io.netty.util.concurrent.SingleThreadEventExecutor e) {
            if (on) {
                e.addShutdownHook(loopShuttingDown);
            } else {
                e.removeShutdownHook(loopShuttingDown);
            }
        }
    }

    ReliableSession session() {
        return session;
    }

    /** Why the session ended, or null for a normal close. */
    Throwable closeCause() {
        return closeCause;
    }

    /**
     * The session ended, failed with {@code cause} or normally (null): the pipeline learns why and
     * closes the channel (its handlers do their part: a mux ends its streams), then the channel
     * closes for good, whatever a handler still waits for (a mux's CLOSE_MUX, which the ended
     * session will never send), releasing what it queued. On the loop.
     */
    void sessionEnded(Throwable cause) {
        if (open) {
            if (cause != null) {
                closeCause = cause;
                if (isRegistered()) {
                    pipeline().fireExceptionCaught(cause);
                }
            }
            close();
        }
        unsafe().close(unsafe().voidPromise());
        watchLoop(false); // session and channel are closed: nothing left to release
    }

    /** Writes again what waited for window room or a link below. On the loop. */
    void resumeWrites() {
        if (isRegistered() && open) {
            ((LinkUnsafe) unsafe()).resumeWrites();
        }
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open && isRegistered();
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new LinkUnsafe();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        return true;
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return remote;
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("a reliable link is not bound");
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        session.upperClosed();
    }

    @Override
    protected void doBeginRead() {
        if (open) {
            session.readRequested();
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        throw new UnsupportedOperationException("a reliable link writes ByteBufs, not " + msg.getClass().getName());
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) {
        session.write(in);
    }

    /**
     * Releases what the channel queued, failing the writes: after the loop's end (the channel cannot
     * close there, and nothing else touches the buffer), or for writes that reach an ended session.
     * Releasing can fire a writability event, which an ended loop rejects: the entry is released by
     * then, and the release goes on with the next (stopping there leaked the rest).
     */
    void dropQueuedWrites() {
        ChannelOutboundBuffer in = unsafe().outboundBuffer();
        if (in == null) {
            return;
        }
        java.nio.channels.ClosedChannelException closed = new java.nio.channels.ClosedChannelException();
        while (true) {
            try {
                in.addFlush(); // a cancelled write is released, then writability is told
                while (in.remove(closed)) {
                    // each released and failed in turn
                }
                return;
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // the writability event after a release: each one thrown means one entry less
            }
        }
    }

    @Override
    public String toString() {
        return "ReliableLink(" + session.describe() + ")";
    }

    private final class LinkUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
            promise.setFailure(new UnsupportedOperationException("a reliable link is opened by its session"));
        }

        void resumeWrites() {
            flush0();
        }
    }
}
