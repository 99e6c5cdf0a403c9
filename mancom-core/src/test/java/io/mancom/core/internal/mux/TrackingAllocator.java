package io.mancom.core.internal.mux;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * An allocator for the fuzz targets that remembers every buffer it made, so that a target can
 * check after each input that all of them were released (a leak found at once and for that input,
 * rather than by the leak detector's sampling after a garbage collection). The buffers are still
 * handed to Netty's leak detector, so a PARANOID run reports their access records too.
 *
 * <p>One per input; not thread-safe (an {@code EmbeddedChannel} runs on the test's thread).
 */
public final class TrackingAllocator extends AbstractByteBufAllocator {

    private final List<ByteBuf> made = new ArrayList<>();

    public TrackingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        ByteBuf b = toLeakAwareBuffer(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
        made.add(b);
        return b;
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return newHeapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** A buffer holding {@code bytes[from, to)}. */
    public ByteBuf copyOf(byte[] bytes, int from, int to) {
        return buffer(to - from).writeBytes(bytes, from, to - from);
    }

    /**
     * Fails if a buffer made here is still referenced.
     *
     * @throws AssertionError naming how many are and the first one's reference count
     */
    public void assertAllReleased(String when) {
        int live = 0;
        ByteBuf first = null;
        for (ByteBuf b : made) {
            if (b.refCnt() != 0) {
                live++;
                if (first == null) {
                    first = b;
                }
            }
        }
        if (live > 0) {
            throw new AssertionError(live + " of " + made.size() + " buffers still referenced " + when
                    + " (the first: refCnt " + first.refCnt() + ", " + first.readableBytes() + " readable bytes)");
        }
    }
}
