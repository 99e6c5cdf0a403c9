package io.mancom.core.internal.forward;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * One direction of a relay, as the last handler of the channel it reads: what it reads goes to the
 * peer channel as it is (no copy), flushed once per read batch.
 *
 * <ul>
 *   <li>Backpressure: when the peer is unwritable (its queue past the high-water mark) this
 *       channel stops reading; it reads again when the peer's {@code channelWritabilityChanged}
 *       says it drained (the other side's handler calls {@link #peerWritable}).</li>
 *   <li>Half-close: the end of this channel's input becomes a shutdown of the peer's output once
 *       everything before it is written; a channel whose input and output are both done closes.
 *       A peer without half-close (a device) is closed instead.</li>
 *   <li>Before the peer exists (the backend is being dialled) reads are queued; only the bytes
 *       a sniffer replays arrive then, since the channel reads nothing until the peer is ready.</li>
 *   <li>A channel that closes closes its peer once the peer has written what it queued.</li>
 * </ul>
 *
 * Loop-only: the handler runs on its channel's loop; {@link #peerReady} and {@link #peerWritable}
 * are called there too.
 */
final class RelaySide extends ChannelInboundHandlerAdapter {
    private Channel self;
    private Channel peer;
    private ArrayDeque<Object> pending = new ArrayDeque<>();
    private boolean inputEnded;
    private boolean closed;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        self = ctx.channel();
    }

    /** The peer is connected: send what was queued, and start reading. */
    void peerReady(Channel p) {
        this.peer = p;
        ArrayDeque<Object> q = pending;
        pending = null;
        if (q != null) {
            for (Object m; (m = q.poll()) != null; ) {
                p.write(m, p.voidPromise());
            }
        }
        p.flush();
        if (closed) {
            closePeerAfterWrites();
            return;
        }
        if (inputEnded) {
            endPeerOutput();
            return;
        }
        self.config().setAutoRead(true);
        self.read();
    }

    /** The peer drained its queue: read again. */
    void peerWritable() {
        if (!inputEnded && self.isActive()) {
            self.config().setAutoRead(true);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (peer == null) {
            if (pending == null) {
                ReferenceCountUtil.release(msg);
            } else {
                pending.add(msg);
            }
            return;
        }
        peer.write(msg, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (peer != null) {
            peer.flush();
            if (!peer.isWritable()) {
                self.config().setAutoRead(false);
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // This channel drained: the peer's reader may go on. The peer's handler owns its reading.
        if (peer != null && self.isWritable()) {
            RelaySide other = peer.pipeline().get(RelaySide.class);
            if (other != null && peer.eventLoop().inEventLoop()) {
                other.peerWritable();
            } else if (other != null) {
                peer.eventLoop().execute(other::peerWritable);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputEnded = true;
            if (peer != null) {
                endPeerOutput();
            }
            if (self instanceof DuplexChannel d && d.isOutputShutdown()) {
                self.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void endPeerOutput() {
        peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f -> {
            if (peer instanceof DuplexChannel d && peer.isActive()) {
                d.shutdownOutput().addListener((ChannelFutureListener) s -> {
                    if (!s.isSuccess() || d.isInputShutdown()) {
                        peer.close();
                    }
                });
            } else {
                peer.close();
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed = true;
        if (peer != null) {
            closePeerAfterWrites();
        } else if (pending != null) {
            pending.forEach(ReferenceCountUtil::release);
            pending.clear();
        }
        ctx.fireChannelInactive();
    }

    private void closePeerAfterWrites() {
        if (peer.isActive()) {
            peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset or a failed write: this side is gone; its close ends the peer too.
        ctx.close();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (pending != null) {
            pending.forEach(ReferenceCountUtil::release);
            pending.clear();
        }
    }
}
