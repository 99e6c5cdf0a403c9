package io.mancom.core.internal.config;

/**
 * The largest buffer sizes and counts a configuration may ask for: beyond them no machine could
 * honour the setting, so {@code mancom config check} (and {@code ManCom.start}) refuse it with a
 * {@link io.mancom.ConfigException} naming the file, line, key and the maximum, instead of the
 * runtime failing later with an allocation error, a silently truncated value or an out-of-memory
 * crash under load. Each is far beyond any useful value (the defaults are 256 KiB write queues,
 * 256 KiB blocking read buffers, 1 MiB mux windows and a 16 MiB mux session budget).
 *
 * <p>Constants only; docs/fuzzing.md lists them with the reasons.
 */
public final class SizeLimits {

    /**
     * {@code write-buffer.low-water}, {@code high-water} and {@code max-pending}: what one
     * connection may queue. A queue of more than 1 GiB per connection takes a machine's memory with
     * a handful of slow peers, and Netty's water marks are {@code int}s anyway.
     */
    public static final int MAX_WRITE_BUFFER = 1 << 30;

    /**
     * {@code blocking.read-buffer}: what one blocking connection reads ahead of its reader. The
     * pooled memory it pins can be twice this, per connection.
     */
    public static final int MAX_BLOCKING_READ_BUFFER = 1 << 30;

    /**
     * {@code mux.receive-buffer}: the sum of one mux session's receive windows, which is what a peer
     * can make the session hold in memory. 64 GiB per link is more than any machine gives a link.
     */
    public static final long MAX_MUX_RECEIVE_BUFFER = 64L << 30;

    /**
     * {@code mux.max-streams} and {@code mux.accept-backlog}: each stream is granted the protocol's
     * initial 64 KiB window whatever the budget, so this many streams may hold
     * {@link #MAX_MUX_RECEIVE_BUFFER} (1,048,576 x 64 KiB = 64 GiB).
     */
    public static final int MAX_MUX_STREAMS = (int) (MAX_MUX_RECEIVE_BUFFER / 65536);

    private SizeLimits() {
    }
}
