package io.mancom.core.internal;

import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;

/**
 * Reading from a link is on only while nobody objects. Several independent reasons can stop it
 * (the application paused, the write queue is full, the blocking buffer is full, callbacks are
 * backed up on an executor, no receiver is registered yet); each owns one bit, and the channel's
 * auto-read is the AND of them all. Event-loop only.
 */
final class ReadGate {
    static final int USER = 1;
    static final int UNWRITABLE = 1 << 1;
    static final int BLOCKING_FULL = 1 << 2;
    static final int BACKLOG = 1 << 3;
    static final int NO_RECEIVER = 1 << 4;

    private final Channel channel;
    private int closedBy;

    ReadGate(Channel channel) {
        this.channel = channel;
    }

    void close(int reason) {
        assert channel.eventLoop().inEventLoop();
        boolean wasOpen = closedBy == 0;
        closedBy |= reason;
        if (wasOpen) {
            channel.config().setAutoRead(false);
        }
    }

    void open(int reason) {
        assert channel.eventLoop().inEventLoop();
        if (closedBy == 0) {
            return;
        }
        closedBy &= ~reason;
        if (closedBy == 0 && !inputShut()) {
            // Netty issues a read() itself when auto-read turns back on.
            channel.config().setAutoRead(true);
        }
    }

    /**
     * Whether the link's input has ended: nothing is left to read, and asking epoll to read a
     * socket whose input was shut fails (epoll_ctl ENOENT, seen when a blocking reader drained its
     * buffer after the peer's half-close).
     */
    private boolean inputShut() {
        return channel instanceof DuplexChannel d && d.isInputShutdown();
    }

    boolean isOpen() {
        return closedBy == 0;
    }
}
