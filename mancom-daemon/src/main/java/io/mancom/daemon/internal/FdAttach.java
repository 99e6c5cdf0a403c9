package io.mancom.daemon.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The daemon's end of one {@code ManCom-Carry: fds} attach connection (docs/daemon.md):
 *
 * <pre>
 *   process -&gt; daemon   'R' (0x52)          once: it reads descriptors now
 *   daemon  -&gt; process  SCM_RIGHTS, 1 byte   one accepted TCP socket per message
 *   process -&gt; daemon   'A' (0x41)          one per descriptor, in order: adopted
 * </pre>
 *
 * Any other byte, a second {@code R}, or an {@code A} for nothing is a protocol error: the
 * connection is closed (and what it had not acknowledged goes to the next process).
 *
 * <h2>Threading</h2>
 * The handler runs on the attach connection's loop and turns every event into a task on the
 * owner's loop ({@link TcpOwner}), in the order read; the state below (ready, unacked) is the
 * owner loop's. Descriptors are written from the owner loop; Netty queues them to the
 * connection's loop in order. The written {@link FileDescriptor} is a fresh wrapper of the
 * daemon's copy, which Netty does not close: the daemon closes its copy at the {@code A}.
 */
final class FdAttach extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(FdAttach.class);
    /** Descriptors sent and not acknowledged, at most, per attach connection. */
    static final int MAX_UNACKED = 64;
    static final byte READY = 'R';
    static final byte ADOPTED = 'A';

    private final TcpOwner owner;
    private final Channel channel;
    private final Peer peer;
    private final EventLoop ownerLoop;
    /** Read on the connection's loop only. */
    private boolean saidReady;
    // The owner loop's:
    private boolean ready;
    private final Deque<TcpOwner.Held> unacked = new ArrayDeque<>();

    FdAttach(TcpOwner owner, Channel channel, Peer peer, EventLoop ownerLoop) {
        this.owner = owner;
        this.channel = channel;
        this.peer = peer;
        this.ownerLoop = ownerLoop;
    }

    Channel channel() {
        return channel;
    }

    Peer peer() {
        return peer;
    }

    /** Sent and not acknowledged, oldest first (owner loop). */
    Deque<TcpOwner.Held> unacked() {
        return unacked;
    }

    /** Whether the next connection may go here (owner loop). */
    boolean canTake() {
        return ready && channel.isActive() && unacked.size() < MAX_UNACKED;
    }

    /** Sends one connection's descriptor; it stays ours until acknowledged (owner loop). */
    void give(TcpOwner.Held h) {
        unacked.addLast(h);
        channel.writeAndFlush(new FileDescriptor(h.child().fd().intValue())).addListener(f -> {
            if (!f.isSuccess()) {
                // The connection is going: its close re-queues h with the rest.
                log.debug("sending a descriptor to {} failed: {}", peer, f.cause().toString());
                channel.close();
            }
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            violation(ctx, "an unexpected message");
            return;
        }
        try {
            while (buf.isReadable()) {
                byte b = buf.readByte();
                if (b == READY && !saidReady) {
                    saidReady = true;
                    ownerLoop.execute(() -> {
                        ready = true;
                        owner.ready(this);
                    });
                } else if (b == ADOPTED && saidReady) {
                    ownerLoop.execute(() -> owner.acked(this));
                } else {
                    violation(ctx, String.format("byte 0x%02x", b & 0xff));
                    return;
                }
            }
        } finally {
            buf.release();
        }
    }

    private void violation(ChannelHandlerContext ctx, String what) {
        log.warn("{} broke the attach protocol ({}; expected 'R' once, then 'A' per descriptor); closing it",
                peer, what);
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ownerLoop.execute(() -> {
            ready = false;
            owner.detached(this);
        });
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("attach connection of {} failed: {}", peer, cause.toString());
        ctx.close();
    }
}
