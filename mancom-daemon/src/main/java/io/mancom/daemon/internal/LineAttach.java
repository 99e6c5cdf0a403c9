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

import java.io.IOException;

/**
 * The daemon's end of one {@code ManCom-Carry: device} attach connection (docs/daemon.md):
 *
 * <pre>
 *   process -&gt; daemon   'R' (0x52)          once: it reads descriptors now
 *   daemon  -&gt; process  SCM_RIGHTS, 1 byte   the line's descriptor (one at a time)
 *   process -&gt; daemon   'A' (0x41)          adopted: it reads the line from now on
 *   process -&gt; daemon   'C' (0x43)          its copy of the line is closed (the application
 *                                            closed it, or the device failed): reopen it
 * </pre>
 *
 * Any other byte, or an {@code A} or {@code C} out of that order, is a protocol error: the
 * connection is closed and the line goes to the next process. {@link HandedLine} checks the order.
 *
 * <h2>Threading</h2>
 * The handler runs on the attach connection's loop and turns every event into a task on the
 * line's loop, in the order read; {@link #ready}, {@link #has} and {@link #adopted} are that
 * loop's. The sent descriptor is a duplicate, closed here once the message is written.
 */
final class LineAttach extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(LineAttach.class);
    static final byte READY = 'R';
    static final byte ADOPTED = 'A';
    static final byte CLOSED = 'C';

    private final HandedLine owner;
    final Channel channel;
    final Peer peer;
    private final EventLoop lineLoop;
    /** The connection loop's. */
    private boolean saidReady;
    // The line loop's:
    boolean ready;
    /** A line was sent to it and it has not said C (nor gone away). */
    boolean has;
    /** It said A for the line it has. */
    boolean adopted;

    LineAttach(HandedLine owner, Channel channel, Peer peer, EventLoop lineLoop) {
        this.owner = owner;
        this.channel = channel;
        this.peer = peer;
        this.lineLoop = lineLoop;
    }

    /** Sends the duplicate descriptor {@code dup} and closes it once written (any thread). */
    void give(int dup) {
        FileDescriptor fd = new FileDescriptor(dup);
        channel.writeAndFlush(fd).addListener(f -> {
            try {
                fd.close();
            } catch (IOException e) {
                log.debug("closing the sent copy of a line failed: {}", e.toString());
            }
            if (!f.isSuccess()) {
                // The connection is going: its close gives the line to the next process.
                log.debug("sending the line to {} failed: {}", peer, f.cause().toString());
                channel.close();
            }
        });
    }

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
                    lineLoop.execute(() -> owner.ready(this));
                } else if (b == ADOPTED && saidReady) {
                    lineLoop.execute(() -> owner.adopted(this));
                } else if (b == CLOSED && saidReady) {
                    lineLoop.execute(() -> owner.closedByProcess(this));
                } else {
                    violation(String.format("byte 0x%02x", b & 0xff));
                    return;
                }
            }
        } finally {
            buf.release();
        }
    }

    void violation(String what) {
        log.warn("{} broke the attach protocol ({}; expected 'R' once, then 'A' and 'C' per line); closing it",
                peer, what);
        channel.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        lineLoop.execute(() -> owner.detached(this));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("attach connection of {} failed: {}", peer, cause.toString());
        ctx.close();
    }

    @Override
    public String toString() {
        return "attach connection of " + peer;
    }
}
