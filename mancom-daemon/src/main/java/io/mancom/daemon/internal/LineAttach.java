package io.mancom.daemon.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.unix.FileDescriptor;

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
 * connection is closed and the line goes to the next process. The bytes are read by
 * {@link AttachHandler}; {@link HandedLine} checks that an {@code A} or {@code C} is for the line sent.
 *
 * <h2>Threading</h2>
 * Every event reaches the line's loop as a task, in the order read; {@link #ready}, {@link #has}
 * and {@link #adopted} are that loop's. The sent descriptor is a duplicate, closed here once the
 * message is written.
 */
final class LineAttach extends AttachHandler {
    private final HandedLine owner;
    // The line loop's:
    boolean ready;
    /** A line was sent to it and it has not said C (nor gone away). */
    boolean has;
    /** It said A for the line it has. */
    boolean adopted;

    LineAttach(HandedLine owner, Channel channel, Peer peer, EventLoop lineLoop) {
        super(channel, peer, lineLoop, true, "'R' once, then 'A' and 'C' per line");
        this.owner = owner;
    }

    /** Sends the duplicate descriptor {@code dup} and closes it once written (any thread). */
    void give(int dup) {
        FileDescriptor fd = new FileDescriptor(dup);
        channel().writeAndFlush(fd).addListener(f -> {
            try {
                fd.close();
            } catch (IOException e) {
                log.debug("closing the sent copy of a line failed: {}", e.toString());
            }
            if (!f.isSuccess()) {
                // The connection is going: its close gives the line to the next process.
                log.debug("sending the line to {} failed: {}", peer(), f.cause().toString());
                channel().close();
            }
        });
    }

    @Override
    void onReady() {
        owner.ready(this);
    }

    @Override
    void onAdopted() {
        owner.adopted(this);
    }

    @Override
    void onClosed() {
        owner.closedByProcess(this);
    }

    @Override
    void onDetached() {
        owner.detached(this);
    }

    @Override
    public String toString() {
        return "attach connection of " + peer();
    }
}
