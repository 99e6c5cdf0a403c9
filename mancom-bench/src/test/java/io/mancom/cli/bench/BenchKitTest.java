package io.mancom.cli.bench;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How a measured interval ends ({@link BenchKit#endInterval}): an interval in which nothing
 * arrived, as on an overloaded machine, goes on until something does (it failed the benchmark,
 * and BenchSubcommandsTest with it, with "received nothing in 500 ms"); a stall still fails.
 */
class BenchKitTest {
    @Test
    void anIntervalThatSawNothingGoesOnUntilTheFirstBytesArrive() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        LongSupplier counter = () -> reads.incrementAndGet() < 4 ? 100 : 164; // the bytes come on the 4th look
        long t0 = System.nanoTime();

        BenchKit.IntervalEnd end = BenchKit.endInterval(counter, 100, t0, Duration.ofSeconds(30), "received");

        assertThat(end.count()).isEqualTo(164);
        assertThat(reads).hasValue(4);
        assertThat(end.nanoTime()).isGreaterThanOrEqualTo(t0);
    }

    @Test
    void anIntervalThatSawBytesEndsAtOnce() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        long t0 = System.nanoTime();

        BenchKit.IntervalEnd end = BenchKit.endInterval(() -> reads.incrementAndGet() + 100, 100, t0, Duration.ofSeconds(30), "received");

        assertThat(end.count()).isEqualTo(101);
        assertThat(reads).hasValue(1);
    }

    @Test
    void aTransferThatMovesNothingAfterTheIntervalIsAStall() {
        long t0 = System.nanoTime();

        assertThatThrownBy(() -> BenchKit.endInterval(() -> 100, 100, t0, Duration.ZERO, "service 'bulk' received"))
                .isInstanceOf(IOException.class)
                .hasMessageMatching("service 'bulk' received nothing in \\d+ ms");
    }
}
