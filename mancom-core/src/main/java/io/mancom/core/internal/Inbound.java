package io.mancom.core.internal;

import io.netty.buffer.ByteBuf;

/**
 * Where a connection's events go: the callback API or the blocking API. Every method runs on the
 * connection's event loop, in order: {@code opened}, any number of {@code data}, one
 * {@code closed}.
 */
interface Inbound {

    /** The connection is ready for the application. */
    void opened(ChannelConnection connection);

    /** Data arrived; the callee owns {@code data} and must release it. */
    void data(ChannelConnection connection, ByteBuf data);

    /**
     * The read batch that delivered the last {@code data} has ended: the loop has read what the
     * link had for now. A consumer on another thread is best woken here, once per batch, rather
     * than for every {@code data}. Not called for a batch that delivered nothing.
     */
    default void readComplete(ChannelConnection connection) {
    }

    /** The peer finished writing; this side may still write. At most once, before {@code closed}. */
    void inputShutdown(ChannelConnection connection);

    /** The connection closed, with its cause (null when clean); called once. */
    void closed(ChannelConnection connection, Throwable cause);
}
