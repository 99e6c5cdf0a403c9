package io.mancom.core.internal.link;

/**
 * Picks the payload size of a session's new DATA frames from the loss it sees: on a clean line
 * the largest frames the handshake allowed (the least overhead per byte), on a noisy one smaller
 * frames, which a bit error hits less often. From the frames sent and lost (sent again) it
 * estimates the line's bit error rate {@code p} (counting a frame's bits once the peer has acknowledged
 * it or it was found lost), and takes the power-of-two size {@code L}
 * (between {@link #MIN} and the negotiated maximum) that maximises the expected goodput of a
 * frame, {@code L / (L + h) * (1 - p)^(8 (L + h))}, where {@code h} is a frame's overhead on
 * the wire. The history decays (halves every {@link #HISTORY_BITS}), so the size follows a line
 * that gets better or worse; a first loss does not shrink the frames to the minimum at once
 * because the estimate starts from a prior of a nearly clean line.
 *
 * <p>Only the sender decides: the receiver takes any size up to the negotiated maximum, so the
 * wire format does not change. Threading: the session's loop only. No buffers.
 */
final class FrameSizer {
    /** The smallest payload the sizer picks (a smaller {@code link.frame-size} is used as it is). */
    static final int MIN = 64;
    /** Bits of history before it is halved: about ten seconds at 115200 baud. */
    static final double HISTORY_BITS = 1 << 20;
    /** A frame's bytes on the wire besides its payload: header, CRC-32C, COBS code and delimiter. */
    static final int OVERHEAD = LinkFrames.DATA_HEADER + 4 + 1 + 1;

    private final int max;
    // The prior: a quarter loss in 2 KiB (a BER of 1.5e-5): the first frames are of 256 bytes (a
    // noisy line's first losses are cheap), 512 after about 4 KiB of clean line, 1024 after 14 KiB.
    private double bits = 1 << 14;
    private double lost = 0.25;
    private int size;

    FrameSizer(int max) {
        this.max = max;
        resize();
    }

    /** The payload size for the next new frame. */
    int size() {
        return size;
    }

    int max() {
        return max;
    }

    /**
     * A frame of {@code payload} bytes arrived (the peer acknowledged it). Bits count once their
     * fate is known, not when they are sent: counted as clean when sent, a window of frames in
     * flight on a very noisy line (BER 1e-3) grew the frames to 512 and 1024 bytes before the
     * first loss was known, and a frame keeps its size when it is sent again, so those frames
     * almost never got through (the session stalled).
     */
    void delivered(int payload) {
        add(payload);
    }

    /** A transmission of a frame of {@code payload} bytes was lost (it is sent again). */
    void lost(int payload) {
        lost++;
        add(payload);
    }

    private void add(int payload) {
        bits += 8.0 * (payload + OVERHEAD + payload / 254);
        if (bits > HISTORY_BITS) {
            bits /= 2;
            lost /= 2;
        }
        // Every frame: the clean bits it adds lower the estimate, which is how frames grow (at
        // most a handful of sizes to weigh, against a frame's worth of line time).
        resize();
    }

    /** The estimated bit error rate. */
    double bitErrorRate() {
        return lost / bits;
    }

    private void resize() {
        double p = bitErrorRate();
        int best = max;
        double bestGain = -1;
        for (int l = max; ; l = Math.max(MIN, l / 2)) {
            int wire = l + OVERHEAD + l / 254;
            double gain = (double) l / wire * Math.exp(8.0 * wire * Math.log1p(-Math.min(p, 0.5)));
            if (gain > bestGain) {
                bestGain = gain;
                best = l;
            }
            if (l <= MIN) {
                break;
            }
        }
        size = best;
    }
}
