package io.mancom.daemon.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executor;

/**
 * The daemon's end of one attach connection that hands descriptors over ({@code ManCom-Carry: fds}
 * and {@code device}, docs/daemon.md): reads the bytes the process sends back and hands each to the
 * carry, which says what it means for that carry's descriptors.
 *
 * <pre>
 *   process -&gt; daemon   'R' (0x52)   once, first: it reads descriptors now     {@link #onReady}
 *   process -&gt; daemon   'A' (0x41)   after R: it adopted a descriptor          {@link #onAdopted}
 *   process -&gt; daemon   'C' (0x43)   after R, where the carry has it: its copy  {@link #onClosed}
 *                                    of the descriptor is closed
 * </pre>
 *
 * Any other byte, a second {@code R}, an {@code A} or {@code C} before the {@code R}, or a message
 * that is not bytes is a protocol violation: it is logged and the connection is closed; the bytes
 * after it are not read. Whether an {@code A} or {@code C} matches something sent is the carry's to
 * check (it knows what it sent), with {@link #violation} when it does not.
 *
 * <h2>Threading</h2>
 * The handler runs on the attach connection's loop and turns every byte and the connection's end
 * ({@link #onDetached}) into a task on the owner's loop, in the order read; the callbacks run there.
 * {@link #violation} may be called on any thread.
 *
 * <h2>Errors</h2>
 * An exception on the connection is logged at debug and closes it (nothing reaches the pipeline's
 * tail); the close then ends in {@link #onDetached}, as any end of the connection does.
 */
abstract class AttachHandler extends ChannelInboundHandlerAdapter {
    static final byte READY = 'R';
    static final byte ADOPTED = 'A';
    static final byte CLOSED = 'C';

    /** The carry's own category (FdAttach, LineAttach), as its messages had before this class. */
    final Logger log = LoggerFactory.getLogger(getClass());
    private final Channel channel;
    private final Peer peer;
    private final Executor ownerLoop;
    private final boolean carriesClose;
    /** What the process may send, for the violation's message ("'R' once, then 'A' per ..."). */
    private final String expected;
    /** Read on the connection's loop only. */
    private boolean saidReady;

    /**
     * @param carriesClose whether {@code C} is part of this carry's protocol
     * @param expected     the bytes this carry expects, named in a violation's log message
     */
    AttachHandler(Channel channel, Peer peer, Executor ownerLoop, boolean carriesClose, String expected) {
        this.channel = channel;
        this.peer = peer;
        this.ownerLoop = ownerLoop;
        this.carriesClose = carriesClose;
        this.expected = expected;
    }

    Channel channel() {
        return channel;
    }

    Peer peer() {
        return peer;
    }

    /** The process said {@code R}: descriptors may go to it now (owner loop). */
    abstract void onReady();

    /** The process said {@code A} (owner loop). */
    abstract void onAdopted();

    /** The process said {@code C}; called only where the carry has it (owner loop). */
    void onClosed() {
        throw new UnsupportedOperationException("'C' is not part of this carry");
    }

    /** The attach connection ended, for whatever reason (owner loop). */
    abstract void onDetached();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg);
            violation("an unexpected message");
            return;
        }
        try {
            while (buf.isReadable()) {
                byte b = buf.readByte();
                if (b == READY && !saidReady) {
                    saidReady = true;
                    ownerLoop.execute(this::onReady);
                } else if (b == ADOPTED && saidReady) {
                    ownerLoop.execute(this::onAdopted);
                } else if (b == CLOSED && saidReady && carriesClose) {
                    ownerLoop.execute(this::onClosed);
                } else {
                    violation(String.format("byte 0x%02x", b & 0xff));
                    return;
                }
            }
        } finally {
            buf.release();
        }
    }

    /** Logs that the process broke the protocol ({@code what} it did) and closes its connection (any thread). */
    void violation(String what) {
        log.warn("{} broke the attach protocol ({}; expected {}); closing it", peer, what, expected);
        channel.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ownerLoop.execute(this::onDetached);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("attach connection of {} failed: {}", peer, cause.toString());
        ctx.close();
    }
}
