package io.mancom.core.internal;

import io.netty.channel.Channel;

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
        if (closedBy == 0) {
            // Netty issues a read() itself when auto-read turns back on.
            channel.config().setAutoRead(true);
        }
    }

    boolean isOpen() {
        return closedBy == 0;
    }
}
