package io.mancom.core.internal.link;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sender's frame size follows the line's bit error rate: the largest frames on a clean line,
 * about the size of best goodput on a noisy one (128 bytes at BER 1e-4), and back up when the
 * line is clean again.
 */
class FrameSizerTest {
    /** Sends {@code bytes} in frames of the sizer's size over a line of bit error rate {@code ber}. */
    private static void send(FrameSizer sizer, double ber, long bytes, Random random) {
        for (long sent = 0; sent < bytes; ) {
            int n = sizer.size();
            sent += n;
            int wireBits = 8 * (n + FrameSizer.OVERHEAD);
            if (random.nextDouble() < 1 - Math.pow(1 - ber, wireBits)) {
                sizer.lost(n);
            } else {
                sizer.delivered(n);
            }
        }
    }

    @ParameterizedTest(name = "BER {0}: {1}..{2} bytes")
    @CsvSource({"0, 1024, 1024", "1e-6, 512, 1024", "1e-5, 256, 512", "1e-4, 64, 128", "1e-3, 64, 64"})
    void picksTheFrameSizeOfBestGoodputForTheLine(double ber, int low, int high) {
        FrameSizer sizer = new FrameSizer(1024);
        Random random = new Random(7);
        send(sizer, ber, 2_000_000, random);
        int[] seen = new int[2];
        for (int i = 0; i < 200; i++) { // the size it settles at, sampled over a while
            send(sizer, ber, 5_000, random);
            seen[0] = Math.max(seen[0], sizer.size());
            seen[1] = i == 0 ? sizer.size() : Math.min(seen[1], sizer.size());
        }
        assertThat(seen[1]).as("smallest").isGreaterThanOrEqualTo(low);
        assertThat(seen[0]).as("largest").isLessThanOrEqualTo(high);
    }

    @ParameterizedTest(name = "max {0}")
    @CsvSource({"1024", "32"})
    void growsBackWhenTheLineIsCleanAgain(int max) {
        FrameSizer sizer = new FrameSizer(max);
        Random random = new Random(8);
        send(sizer, 1e-3, 500_000, random);
        assertThat(sizer.size()).isEqualTo(Math.min(max, FrameSizer.MIN));
        send(sizer, 0, 2_000_000, random);
        assertThat(sizer.size()).isEqualTo(max);
    }

    @org.junit.jupiter.api.Test
    void aNewCleanLineGrowsToTheLargestFramesWithinSixteenKibibytes() {
        // The prior starts the frames at 256 bytes; each clean frame must lower the estimate at
        // once (it once did only when the history was halved, after 128 KiB: a short transfer
        // never left 256-byte frames).
        FrameSizer sizer = new FrameSizer(1024);
        assertThat(sizer.size()).isEqualTo(256);
        send(sizer, 0, 6 * 1024, new Random(9));
        assertThat(sizer.size()).isEqualTo(512);
        send(sizer, 0, 10 * 1024, new Random(9));
        assertThat(sizer.size()).isEqualTo(1024);
    }
}
