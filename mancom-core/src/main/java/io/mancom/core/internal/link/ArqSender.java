package io.mancom.core.internal.link;

import io.netty.buffer.ByteBuf;

import java.util.function.IntConsumer;

/**
 * The sending half of selective repeat: keeps every frame sent and not yet acknowledged (at most
 * {@code window}, so its memory is bounded by window x frame-size), learns from the peer's
 * cumulative ACK and SACK bitmap which arrived, and says which to send again:
 * <ul>
 *   <li>a frame the peer has not got while it got three frames sent after it (by transmission
 *       order, as TCP's RACK does) is lost: sent again at once (what SACK is for: no waiting);</li>
 *   <li>a frame unacknowledged for a retransmission timeout ({@link RttEstimator}) is sent
 *       again, and the timeout backs off.</li>
 * </ul>
 * Round trips are measured on frames sent once (Karn's rule). New frames go out only while fewer
 * than {@code window} are unacknowledged and the peer said it has room ({@code limit}).
 *
 * <p>Event loop only. Owns the payloads it holds ({@link #releaseAll} on the session's end).
 */
final class ArqSender {
    private static final int REORDER = 3;

    private final int window;
    private final Entry[] slots;
    private final int mask;
    private final RttEstimator rtt;
    private final LinkCounters counters;
    private final IntConsumer delivered;
    private int una;     // the oldest unacknowledged frame
    private int next;    // the next new frame
    private int limit;   // the peer's first frame without room
    private long transmissions;
    private long highestAckedTx = -1;
    private long lastProgress;     // when an ACK last acknowledged something new (RFC 6298 5.3)
    private int timed = -1;        // the frame whose round trip is being timed, or -1
    private boolean timing;

    private static final class Entry {
        ByteBuf payload;
        long sentAt;
        long tx;
        boolean retransmitted;
        boolean sacked;
    }

    /** @param delivered told the payload size of each frame when the peer first acknowledges it (cumulatively or by SACK) */
    ArqSender(int window, RttEstimator rtt, LinkCounters counters, IntConsumer delivered) {
        this.window = window;
        int size = Integer.highestOneBit(Math.max(1, window - 1)) << 1;
        this.slots = new Entry[size];
        for (int i = 0; i < size; i++) {
            slots[i] = new Entry();
        }
        this.mask = size - 1;
        this.rtt = rtt;
        this.counters = counters;
        this.delivered = delivered;
        this.limit = window;
    }

    /** Whether a new frame may be sent now. */
    boolean canSend() {
        return next - una < window && next - limit < 0;
    }

    /** Frames sent and not acknowledged. */
    int inFlight() {
        return next - una;
    }

    int next() {
        return next;
    }

    int una() {
        return una;
    }

    /** Keeps {@code payload} (owned from now on) as frame {@link #next()} sent at {@code now}; returns its number. */
    int add(ByteBuf payload, long now) {
        assert canSend();
        Entry e = slots[next & mask];
        e.payload = payload;
        e.sentAt = now;
        e.tx = transmissions++;
        e.retransmitted = false;
        e.sacked = false;
        if (!timing) {
            // One sample per round trip, as TCP takes them: a sample per frame would shrink the
            // variance to nothing while a queue keeps every frame's round trip the same, and the
            // first slightly longer one would time out.
            timing = true;
            timed = next;
        }
        return next++;
    }

    /** The payload of unacknowledged frame {@code seq} (not a copy; the sender keeps it). */
    ByteBuf payload(int seq) {
        return slots[seq & mask].payload;
    }

    /** Records that frame {@code seq} was sent again at {@code now}. */
    void resent(int seq, long now) {
        Entry e = slots[seq & mask];
        e.sentAt = now;
        e.tx = transmissions++;
        e.retransmitted = true;
        if (timing && seq == timed) {
            timing = false; // Karn: a frame sent twice gives no sample
        }
        counters.retransmits.increment();
    }

    /**
     * The peer's ACK: it has every frame before {@code ack}, the frames in {@code sack} (bit i =
     * frame ack + 1 + i), and room up to {@code limit}. Frames now known lost go to {@code lost},
     * oldest first. Returns whether the window moved.
     */
    boolean onAck(int ack, int limit, ByteBuf sack, long now, IntConsumer lost) {
        boolean moved = cumulative(ack, now);
        if (limit - this.limit > 0 && limit - ack <= LinkSettings.MAX_WINDOW) {
            this.limit = limit;
            moved = true;
        }
        if (sack != null) {
            int bits = Math.min(sack.readableBytes() * 8, next - ack - 1);
            for (int i = 0; i < bits; i++) {
                int seq = ack + 1 + i;
                // A stale ACK (reordered, duplicated) may name frames acknowledged since, whose
                // slots hold newer frames now: only [una, next) counts.
                if (seq - una >= 0 && (sack.getByte(sack.readerIndex() + (i >> 3)) & (1 << (i & 7))) != 0) {
                    Entry e = slots[seq & mask];
                    if (!e.sacked && e.payload != null) {
                        e.sacked = true;
                        delivered.accept(e.payload.readableBytes());
                        lastProgress = now;
                        sampleIfTimed(seq, e, now);
                        highestAckedTx = Math.max(highestAckedTx, e.tx);
                    }
                }
            }
        }
        for (int s = una; s - next < 0; s++) {
            Entry e = slots[s & mask];
            if (!e.sacked && e.tx + REORDER <= highestAckedTx) {
                lost.accept(s);
            }
        }
        return moved;
    }

    /** The peer has every frame before {@code ack} (a piggybacked ACK, or a resumed session's next). */
    boolean cumulative(int ack, long now) {
        if (ack - una <= 0 || ack - next > 0) {
            return false; // old, or for frames never sent (a stray or hostile value): ignored
        }
        lastProgress = now;
        while (una != ack) {
            Entry e = slots[una & mask];
            if (!e.sacked) {
                sampleIfTimed(una, e, now);
                delivered.accept(e.payload.readableBytes());
            }
            highestAckedTx = Math.max(highestAckedTx, e.tx);
            e.payload.release();
            e.payload = null;
            una++;
        }
        return true;
    }

    private void sampleIfTimed(int seq, Entry e, long now) {
        if (timing && seq == timed) {
            timing = false;
            if (!e.retransmitted) {
                rtt.sample(now - e.sentAt);
            }
        }
    }

    /**
     * The retransmission timeout: when nothing new was acknowledged for a timeout since the oldest
     * outstanding frame was sent (RFC 6298: the timer restarts on every ACK that acknowledges
     * something new), that frame alone goes out again, as a probe; once it is acknowledged, the
     * frames sent before it that are still missing count as lost (above) and follow. Returns
     * whether it fired.
     */
    boolean expired(long now, IntConsumer lost) {
        for (int s = una; s - next < 0; s++) {
            Entry e = slots[s & mask];
            if (!e.sacked) {
                if (now - Math.max(e.sentAt, lastProgress) >= rtt.rto()) {
                    lost.accept(s);
                    return true;
                }
                return false;
            }
        }
        return false;
    }

    /**
     * A resumed session: the peer has every frame before {@code peerNext}; every frame after it
     * goes out again (the link below may have lost whatever was on its way), and the peer's room is
     * unknown until its next ACK, so one window from there.
     */
    void resume(int peerNext, long now, IntConsumer resend) {
        cumulative(peerNext, now);
        limit = una + window;
        highestAckedTx = transmissions;
        for (int s = una; s - next < 0; s++) {
            slots[s & mask].sacked = false;
            resend.accept(s);
        }
    }

    void releaseAll() {
        for (Entry e : slots) {
            if (e.payload != null) {
                e.payload.release();
                e.payload = null;
            }
        }
    }
}
