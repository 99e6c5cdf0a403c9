package io.mancom.core.internal.link;

import java.util.concurrent.atomic.LongAdder;

/**
 * What a reliable link has seen and done: frames, bytes, errors, retransmissions. One instance per
 * session (it survives the links below it). Thread-safe counters, read for tests, logs and
 * monitoring; the hot path pays one {@code LongAdder} increment per event.
 */
public final class LinkCounters {
    /** Frames that decoded with a good CRC. */
    public final LongAdder framesIn = new LongAdder();
    /** Frames written to the link below (retransmissions included). */
    public final LongAdder framesOut = new LongAdder();
    /** Frames dropped for a bad CRC-32C. */
    public final LongAdder crcErrors = new LongAdder();
    /** Frames dropped because they did not decode (bad COBS, too long, too short, unknown type). */
    public final LongAdder badFrames = new LongAdder();
    /** Bytes thrown away: the bytes of every dropped frame, and of garbage between frames. */
    public final LongAdder droppedBytes = new LongAdder();
    /** Data frames sent again (after a timeout, or because the peer's SACK showed them missing). */
    public final LongAdder retransmits = new LongAdder();
    /** Retransmission timeouts that fired. */
    public final LongAdder timeouts = new LongAdder();
    /** Data frames received that had been received already (suppressed). */
    public final LongAdder duplicates = new LongAdder();
    /** Data frames received beyond the receive window (dropped; the sender sends them again). */
    public final LongAdder beyondWindow = new LongAdder();
    /** Times the session came back on a new link below. */
    public final LongAdder resumes = new LongAdder();

    @Override
    public String toString() {
        return "frames in " + framesIn + ", out " + framesOut + ", crc errors " + crcErrors + ", bad frames " + badFrames
                + ", dropped bytes " + droppedBytes + ", retransmits " + retransmits + ", timeouts " + timeouts
                + ", duplicates " + duplicates + ", beyond window " + beyondWindow + ", resumes " + resumes;
    }
}
