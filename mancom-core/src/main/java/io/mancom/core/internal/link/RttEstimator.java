package io.mancom.core.internal.link;

/**
 * The retransmission timeout from measured round trips, as RFC 6298 computes TCP's: a smoothed
 * round trip (gain 1/8) and its mean deviation (gain 1/4), RTO = SRTT + max(1 ms, 4 x RTTVAR),
 * within [min, max]; doubled on each timeout (backoff) until the next sample. Samples come only
 * from frames sent once (Karn's rule). Event loop only; nanoseconds throughout.
 */
final class RttEstimator {
    private static final long GRANULARITY = 1_000_000L;
    private final long min;
    private final long max;
    private long srtt = -1;
    private long rttvar;
    private long rto;

    RttEstimator(long minNanos, long maxNanos) {
        this.min = minNanos;
        this.max = maxNanos;
        this.rto = clamp(1_000_000_000L); // RFC 6298 2.1: 1 s before the first sample
    }

    void sample(long rtt) {
        if (srtt < 0) {
            srtt = rtt;
            rttvar = rtt / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - rtt)) / 4;
            srtt = (7 * srtt + rtt) / 8;
        }
        rto = clamp(srtt + Math.max(GRANULARITY, 4 * rttvar));
    }

    void backoff() {
        rto = Math.min(max, rto * 2);
    }

    long rto() {
        return rto;
    }

    /** The smoothed round trip, or -1 before the first sample. */
    long srtt() {
        return srtt;
    }

    private long clamp(long v) {
        return Math.max(min, Math.min(max, v));
    }
}
