package io.mancom.core.spi.device;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Who still uses a {@link DeviceChannel}'s link, so that the device is reopened only once nobody
 * does: the open link itself holds it once until {@link #closeLink()}, and an engine's thread
 * (a reader while it runs, a writer while a batch is in flight) holds it once more each.
 * {@link #released()} completes when the last hold goes.
 *
 * <p>Thread-safe.
 */
final class LinkHolds {
    private static final Logger log = LoggerFactory.getLogger(LinkHolds.class);

    private final DeviceLink link;
    private final AtomicInteger holds = new AtomicInteger(1); // the open link's own
    private final AtomicBoolean linkClosed = new AtomicBoolean();
    private final CompletableFuture<Void> released = new CompletableFuture<>();

    LinkHolds(DeviceLink link) {
        this.link = link;
    }

    /** One more user of the link, until its {@link #release()}. */
    void acquire() {
        holds.incrementAndGet();
    }

    /** A user let go of the link; the last one completes {@link #released()}. */
    void release() {
        if (holds.decrementAndGet() == 0) {
            released.complete(null);
        }
    }

    /** Closes the link, once (later calls do nothing), and drops its own hold. May block. */
    void closeLink() {
        if (linkClosed.compareAndSet(false, true)) {
            try {
                link.close();
            } catch (Throwable t) {
                log.warn("{}: closing the device failed", link.remote(), t);
            } finally {
                release();
            }
        }
    }

    /** Completes (never exceptionally) once the link is closed and nobody holds it. */
    CompletionStage<Void> released() {
        return released;
    }
}
