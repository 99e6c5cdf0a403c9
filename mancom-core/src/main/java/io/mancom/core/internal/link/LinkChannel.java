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
    }

    ReliableSession session() {
        return session;
    }

    /** Why the session ended, or null for a normal close. */
    Throwable closeCause() {
        return closeCause;
    }

    /** The session failed: the pipeline learns why, then the channel closes. On the loop. */
    void fail(Throwable cause) {
        if (!open) {
            return;
        }
        closeCause = cause;
        if (isRegistered()) {
            pipeline().fireExceptionCaught(cause);
        }
        close();
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
     * Releases what the channel queued, for a session whose event loop has ended (the channel cannot
     * close there); called after the loop's end, when nothing else touches the buffer.
     */
    void dropQueuedWrites() {
        ChannelOutboundBuffer in = unsafe().outboundBuffer();
        if (in == null) {
            return;
        }
        in.addFlush();
        java.nio.channels.ClosedChannelException closed = new java.nio.channels.ClosedChannelException();
        while (in.remove(closed)) {
            // each released and failed in turn
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
