package io.mancom.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The detector must see a leak that is really there, or every other test's green means nothing. */
class LeakDetectorTest {

    @Test
    void reportsABufferThatWasNeverReleased() throws Exception {
        LeakDetector.sweep(); // start clean
        leakOne();
        assertThat(LeakDetector.sweep()).singleElement().asString().contains("LEAK: ByteBuf was not released");
    }

    @Test
    void staysQuietWhenEverythingIsReleased() throws Exception {
        LeakDetector.sweep();
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeLong(1);
        buf.release();
        assertThat(LeakDetector.sweep()).isEmpty();
    }

    private static void leakOne() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        buf.writeInt(42);
        // dropped without release()
    }
}
