package io.mancom.daemon.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.FileDescriptor;

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
 * connection is closed (and what it had not acknowledged goes to the next process). The bytes are
 * read by {@link AttachHandler}; {@link TcpOwner} checks that an {@code A} acknowledges something.
 *
 * <h2>Threading</h2>
 * Every event reaches the owner's loop ({@link TcpOwner}) as a task, in the order read; the state
 * below (ready, unacked) is the owner loop's. Descriptors are written from the owner loop; Netty
 * queues them to the connection's loop in order. The written {@link FileDescriptor} is a fresh
 * wrapper of the daemon's copy, which Netty does not close: the daemon closes its copy at the {@code A}.
 */
final class FdAttach extends AttachHandler {
    /** Descriptors sent and not acknowledged, at most, per attach connection. */
    static final int MAX_UNACKED = 64;

    private final TcpOwner owner;
    // The owner loop's:
    private boolean ready;
    private final Deque<TcpOwner.Held> unacked = new ArrayDeque<>();

    FdAttach(TcpOwner owner, Channel channel, Peer peer, EventLoop ownerLoop) {
        super(channel, peer, ownerLoop, false, "'R' once, then 'A' per descriptor");
        this.owner = owner;
    }

    /** Sent and not acknowledged, oldest first (owner loop). */
    Deque<TcpOwner.Held> unacked() {
        return unacked;
    }

    /** Whether the next connection may go here (owner loop). */
    boolean canTake() {
        return ready && channel().isActive() && unacked.size() < MAX_UNACKED;
    }

    /** Sends one connection's descriptor; it stays ours until acknowledged (owner loop). */
    void give(TcpOwner.Held h) {
        unacked.addLast(h);
        channel().writeAndFlush(new FileDescriptor(h.child().fd().intValue())).addListener(f -> {
            if (!f.isSuccess()) {
                // The connection is going: its close re-queues h with the rest.
                log.debug("sending a descriptor to {} failed: {}", peer(), f.cause().toString());
                channel().close();
            }
        });
    }

    @Override
    void onReady() {
        ready = true;
        owner.ready(this);
    }

    @Override
    void onAdopted() {
        owner.acked(this);
    }

    @Override
    void onDetached() {
        ready = false;
        owner.detached(this);
    }
}
