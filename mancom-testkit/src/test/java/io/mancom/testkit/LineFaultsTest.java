package io.mancom.testkit;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** The relay's fault engine alone: what a seed does to a byte sequence, exactly. */
class LineFaultsTest {
    private static final int N = 1 << 20;

    @Test
    void noFaultsLeavesEveryByteAlone() {
        byte[] in = random(N, 1);
        LineFaults f = new LineFaults(LineProfile.PERFECT, 7);
        int m = f.apply(in, 0, in.length);
        assertThat(Arrays.copyOf(f.output(), m)).isEqualTo(in);
        assertThat(f.bitsFlipped + f.bytesDropped + f.garbageBytes).isZero();
    }

    @Test
    void bitFlipsAreCountedExactlyAndFollowTheRate() {
        byte[] in = random(N, 2);
        LineFaults f = new LineFaults(LineProfile.PERFECT.withBitErrorRate(1e-3), 42);
        int m = f.apply(in, 0, in.length);
        assertThat(m).isEqualTo(N);
        long differing = 0;
        for (int i = 0; i < N; i++) {
            differing += Integer.bitCount((in[i] ^ f.output()[i]) & 0xff);
        }
        assertThat(differing).isEqualTo(f.bitsFlipped);
        // 8 Mi bits at 1e-3: 8,389 expected, sd about 92.
        assertThat(f.bitsFlipped).isBetween(8_389L - 500, 8_389L + 500);
    }

    @Test
    void dropsLeaveTheOtherBytesInOrder() {
        byte[] in = random(N, 3);
        LineFaults f = new LineFaults(LineProfile.PERFECT.withDropRate(1e-3), 43);
        int m = f.apply(in, 0, in.length);
        assertThat((long) m).isEqualTo(N - f.bytesDropped);
        assertThat(f.bytesDropped).isBetween(1_049L - 160, 1_049L + 160);
        assertThat(isSubsequence(Arrays.copyOf(f.output(), m), in)).isTrue();
    }

    @Test
    void garbageBurstsAreInsertedAndCounted() {
        byte[] in = random(N, 4);
        LineFaults f = new LineFaults(LineProfile.PERFECT.withGarbage(1e-4, 1, 32), 44);
        int m = f.apply(in, 0, in.length);
        assertThat((long) m).isEqualTo(N + f.garbageBytes);
        assertThat(f.garbageBursts).isBetween(105L - 45, 105L + 45);
        assertThat(f.garbageBytes).isBetween(f.garbageBursts, f.garbageBursts * 32);
        assertThat(isSubsequence(in, Arrays.copyOf(f.output(), m))).isTrue();
    }

    @Test
    void theSameSeedGivesTheSameLineHoweverTheBytesAreSplit() {
        LineProfile noisy = LineProfile.PERFECT.withBitErrorRate(1e-4).withDropRate(1e-3).withGarbage(1e-4, 1, 16);
        byte[] in = random(N, 5);
        LineFaults whole = new LineFaults(noisy, 99);
        int m = whole.apply(in, 0, in.length);
        byte[] once = Arrays.copyOf(whole.output(), m);

        LineFaults pieces = new LineFaults(noisy, 99);
        byte[] joined = new byte[m + 1024];
        int at = 0;
        SplittableRandom sizes = new SplittableRandom(1);
        for (int off = 0; off < in.length; ) {
            int len = Math.min(in.length - off, 1 + sizes.nextInt(700));
            int k = pieces.apply(in, off, len);
            assertThat(at + k).isLessThanOrEqualTo(m);
            System.arraycopy(pieces.output(), 0, joined, at, k);
            at += k;
            off += len;
        }
        assertThat(Arrays.copyOf(joined, at)).isEqualTo(once);
        assertThat(new long[] {pieces.bitsFlipped, pieces.bytesDropped, pieces.garbageBursts, pieces.garbageBytes})
                .containsExactly(whole.bitsFlipped, whole.bytesDropped, whole.garbageBursts, whole.garbageBytes);
        assertThat(whole.bitsFlipped).isPositive();
        assertThat(whole.bytesDropped).isPositive();
        assertThat(whole.garbageBursts).isPositive();

        LineFaults otherSeed = new LineFaults(noisy, 100);
        int m2 = otherSeed.apply(in, 0, in.length);
        assertThat(Arrays.copyOf(otherSeed.output(), m2)).isNotEqualTo(once);
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** Whether {@code small} is {@code big} with some bytes left out. */
    static boolean isSubsequence(byte[] small, byte[] big) {
        int j = 0;
        for (int i = 0; i < big.length && j < small.length; i++) {
            if (big[i] == small[j]) {
                j++;
            }
        }
        return j == small.length;
    }
}
