package io.mancom.core.spi.device;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The device is released only when the link is closed and every engine thread has let go. */
class LinkHoldsTest {

    @Test
    void releasedOnlyOnceTheLinkIsClosedAndEveryHoldIsGone() {
        QueueLink link = new QueueLink();
        LinkHolds holds = new LinkHolds(link);
        CompletableFuture<Void> released = holds.released().toCompletableFuture();
        holds.acquire(); // a reader
        holds.acquire(); // a writer
        holds.closeLink();
        assertThat(link.closes).hasValue(1);
        assertThat(released).isNotDone();
        holds.release();
        assertThat(released).isNotDone();
        holds.release();
        assertThat(released).isCompleted();
    }

    @Test
    void theLinkIsClosedOnceHoweverOftenClosingIsAskedFor() {
        QueueLink link = new QueueLink();
        LinkHolds holds = new LinkHolds(link);
        holds.acquire();
        holds.closeLink();
        holds.closeLink(); // a second close must not drop the reader's hold too
        assertThat(link.closes).hasValue(1);
        assertThat(holds.released().toCompletableFuture()).isNotDone();
        holds.release();
        assertThat(holds.released().toCompletableFuture()).isCompleted();
    }

    @Test
    void aLinkWhoseCloseThrowsIsStillReleased() {
        QueueLink link = new QueueLink() {
            @Override
            public void close() {
                super.close();
                throw new IllegalStateException("driver failed to close");
            }
        };
        LinkHolds holds = new LinkHolds(link);
        holds.closeLink();
        assertThat(link.closes).hasValue(1);
        assertThat(holds.released().toCompletableFuture()).isCompleted();
    }
}
