package io.mancom.core.internal.link;

import io.netty.buffer.ByteBuf;

/**
 * The receiving half of selective repeat: frames in any order in, payloads in order out, each
 * exactly once. Holds at most {@code window} payloads (received out of order, or in order but not
 * yet taken by the reader); a frame beyond that is dropped, so a peer cannot make it buffer more.
 * Tells the sender what it has: the next frame it expects ({@link #next()}), the frames it holds
 * beyond that ({@link #sack}) and the first frame it has no room for ({@link #limit()}).
 *
 * <p>Event loop only. Owns the payloads it holds ({@link #releaseAll} on the session's end).
 */
final class ArqReceiver {
    private final int window;
    private final ByteBuf[] slots;
    private final int mask;
    private volatile int next; // the first frame not received yet (read by a HELLO on another loop)
    private int delivered;  // the first frame not taken by the reader yet
    private final LinkCounters counters;

    ArqReceiver(int window, LinkCounters counters) {
        this.window = window;
        int size = Integer.highestOneBit(Math.max(1, window - 1)) << 1;
        this.slots = new ByteBuf[size];
        this.mask = size - 1;
        this.counters = counters;
    }

    /** What happened to a frame. */
    enum Result { NEW, DUPLICATE, BEYOND_WINDOW }

    /** Takes the payload of DATA frame {@code seq} (owns it from here on, whatever the result). */
    Result accept(int seq, ByteBuf payload) {
        if (seq - next < 0) {
            payload.release();
            counters.duplicates.increment();
            return Result.DUPLICATE;
        }
        if (seq - delivered >= window) {
            payload.release();
            counters.beyondWindow.increment();
            return Result.BEYOND_WINDOW;
        }
        int i = seq & mask;
        if (slots[i] != null) {
            payload.release();
            counters.duplicates.increment();
            return Result.DUPLICATE;
        }
        slots[i] = payload;
        while (next - delivered < window && slots[next & mask] != null) {
            next++;
        }
        return Result.NEW;
    }

    /** The next payload in order, or null; the caller owns it. */
    ByteBuf poll() {
        if (delivered == next) {
            return null;
        }
        int i = delivered & mask;
        ByteBuf b = slots[i];
        slots[i] = null;
        delivered++;
        return b;
    }

    /** Whether frames arrived out of order and wait for a gap to be filled. */
    boolean hasGap() {
        for (int s = next + 1; s - delivered < window; s++) {
            if (slots[s & mask] != null) {
                return true;
            }
        }
        return false;
    }

    int next() {
        return next;
    }

    /** The first frame there is no room for. */
    int limit() {
        return delivered + window;
    }

    /**
     * Fills {@code bits} with the frames held beyond {@link #next()}: bit {@code i} of byte
     * {@code i / 8} is frame {@code next + 1 + i}. Returns the bytes used (0 with no gap).
     */
    int sack(byte[] bits) {
        int used = 0;
        java.util.Arrays.fill(bits, (byte) 0);
        int span = Math.min(bits.length * 8, window);
        for (int i = 0; i < span; i++) {
            int s = next + 1 + i;
            if (s - delivered >= window) {
                break;
            }
            if (slots[s & mask] != null) {
                bits[i >> 3] |= (byte) (1 << (i & 7));
                used = (i >> 3) + 1;
            }
        }
        return used;
    }

    /** Payloads held: out of order, or in order and not taken yet. */
    int held() {
        int n = 0;
        for (ByteBuf b : slots) {
            if (b != null) {
                n++;
            }
        }
        return n;
    }

    void releaseAll() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null) {
                slots[i].release();
                slots[i] = null;
            }
        }
    }
}
