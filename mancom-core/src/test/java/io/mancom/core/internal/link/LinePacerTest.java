package io.mancom.core.internal.link;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Pacing at the line rate: a burst, then bytes as the line drains them. */
class LinePacerTest {
    private static final long RATE = 11_520; // 115200 baud, 10 bits a byte
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aFrameLargerThanTheBurstGoesOutAndItsDebtDelaysTheNext() {
        // The sender's frames grow on a clean line (256 to 1024 bytes) after the burst was set
        // for the small ones; a 1035-byte frame against a 576-byte burst once waited forever.
        EmbeddedChannel ch = new EmbeddedChannel();
        AtomicInteger wakes = new AtomicInteger();
        LinePacer pacer = new LinePacer(ch.eventLoop(), RATE, 576, wakes::incrementAndGet);
        assertThat(pacer.take(1035, 0)).isTrue();
        assertThat(pacer.take(1035, 0)).as("the debt of the first").isFalse();
        long owed = (1035 - 576) + 576; // the overdraft, then a full burst
        assertThat(pacer.take(1035, (owed - 10) * SECOND / RATE)).isFalse();
        assertThat(pacer.take(1035, (owed + 1) * SECOND / RATE)).isTrue();
        pacer.cancel();
        ch.finishAndReleaseAll();
    }

    @Test
    void withinTheBurstFramesGoAtOnceThenAtTheLineRate() {
        EmbeddedChannel ch = new EmbeddedChannel();
        LinePacer pacer = new LinePacer(ch.eventLoop(), RATE, 2000, () -> { });
        assertThat(pacer.take(1000, 0)).isTrue();
        assertThat(pacer.take(1000, 0)).isTrue();
        assertThat(pacer.take(1000, 0)).isFalse();
        assertThat(pacer.take(1000, 1000 * SECOND / RATE + 1)).isTrue();
        pacer.cancel();
        ch.finishAndReleaseAll();
    }

    @Test
    void aLargerBurstAddsItsDifferenceToTheCreditSoTheSenderKeepsItsLeadOnTheLine() {
        // Paced frame by frame, a sender has no credit left; when the frames (and so the burst)
        // grow from 256 to 1024 bytes, the larger burst lets it be one more frame ahead of the
        // line at once, so a late wake-up is made up from that lead instead of idling the line.
        EmbeddedChannel ch = new EmbeddedChannel();
        LinePacer pacer = new LinePacer(ch.eventLoop(), RATE, 576, () -> { });
        assertThat(pacer.take(576, 0)).isTrue();
        assertThat(pacer.take(1035, 0)).isFalse();
        pacer.burst(2070);
        assertThat(pacer.take(1035, 0)).as("the burst's growth is credit").isTrue();
        assertThat(pacer.take(1035, 0)).isFalse();
        pacer.cancel();
        ch.finishAndReleaseAll();
    }
}
