package io.mancom.testkit;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The fault engine of one direction of a {@link SerialLineRelay}: turns the bytes a sender wrote
 * into the bytes the line delivers, with the flips, drops and garbage of its {@link LineProfile}.
 *
 * <p>Every random decision comes from one {@link SplittableRandom} in the order of the bytes, and
 * the gaps between faults are drawn as geometric variables, so the outcome depends on the seed and
 * the byte sequence only: how the bytes were split into calls does not matter. Not thread-safe:
 * the relay's writer thread of that direction owns it.
 */
final class LineFaults {
    private final LineProfile profile;
    private final SplittableRandom random;
    private long bitsToNextFlip;
    private long bytesToNextDrop;
    private long bytesToNextBurst;
    private byte[] out = new byte[256];

    // Volatile: the relay's counters are read from other threads; faults are rare enough for the cost.
    volatile long bitsFlipped;
    volatile long bytesDropped;
    volatile long garbageBursts;
    volatile long garbageBytes;

    LineFaults(LineProfile profile, long seed) {
        this.profile = profile;
        this.random = new SplittableRandom(seed);
        bitsToNextFlip = gap(profile.bitErrorRate());
        bytesToNextDrop = gap(profile.dropRate());
        bytesToNextBurst = gap(profile.garbageRate());
    }

    /**
     * Applies the faults to {@code len} bytes of {@code in}; the result is in {@link #output()}, and
     * valid until the next call.
     *
     * @return how many bytes the line delivers for them
     */
    int apply(byte[] in, int off, int len) {
        int n = 0;
        for (int i = off; i < off + len; i++) {
            if (bytesToNextBurst == 0) {
                int burst = profile.garbageMin() + random.nextInt(profile.garbageMax() - profile.garbageMin() + 1);
                ensure(n + burst + 1);
                for (int k = 0; k < burst; k++) {
                    out[n++] = (byte) random.nextInt(256);
                }
                garbageBursts++;
                garbageBytes += burst;
                bytesToNextBurst = gap(profile.garbageRate());
            } else if (bytesToNextBurst != Long.MAX_VALUE) {
                bytesToNextBurst--;
            }
            if (bytesToNextDrop == 0) {
                bytesDropped++;
                bytesToNextDrop = gap(profile.dropRate());
                continue;
            } else if (bytesToNextDrop != Long.MAX_VALUE) {
                bytesToNextDrop--;
            }
            int b = in[i] & 0xff;
            while (bitsToNextFlip < 8) {
                b ^= 1 << bitsToNextFlip;
                bitsFlipped++;
                long next = gap(profile.bitErrorRate());
                // The next gap counts from the bit after this one; past the byte's end it carries over.
                bitsToNextFlip = next == Long.MAX_VALUE ? next : bitsToNextFlip + 1 + next;
            }
            if (bitsToNextFlip != Long.MAX_VALUE) {
                bitsToNextFlip -= 8;
            }
            ensure(n + 1);
            out[n++] = (byte) b;
        }
        return n;
    }

    /** The bytes of the last {@link #apply}. */
    byte[] output() {
        return out;
    }

    private void ensure(int size) {
        if (out.length < size) {
            out = Arrays.copyOf(out, Math.max(size, out.length * 2));
        }
    }

    /** How many trials pass before the next success of probability {@code p}: 0 means the next one. */
    private long gap(double p) {
        if (p <= 0) {
            return Long.MAX_VALUE;
        }
        if (p >= 1) {
            return 0;
        }
        double u = 1.0 - random.nextDouble(); // (0, 1]
        double g = Math.floor(Math.log(u) / Math.log1p(-p));
        return g >= Long.MAX_VALUE / 2 ? Long.MAX_VALUE / 2 : (long) g;
    }
}
