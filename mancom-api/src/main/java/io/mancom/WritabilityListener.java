package io.mancom;

/**
 * Told when a {@link Connection}'s write queue crosses its high-water mark (unwritable) or drains
 * below its low-water mark (writable again). Runs on the connection's event loop; must be fast
 * and must not block or throw.
 */
@FunctionalInterface
public interface WritabilityListener {
    /** The connection's writability changed to {@code writable}. */
    void onWritabilityChanged(Connection connection, boolean writable);
}
