package io.mancom.testkit;

/**
 * What one direction of a {@link SerialLineRelay} has done so far: an immutable snapshot from
 * {@link SerialLineRelay#counters(SerialLineRelay.Direction)}.
 *
 * <p>{@code bytesRead = bytesDelivered + bytesDropped + bytesLost + (bytes still queued)}, and the
 * receiver got {@code bytesDelivered + garbageBytes} bytes, {@code bitsFlipped} of whose bits differ
 * from what was sent.
 *
 * @param bytesRead      bytes taken from the sender
 * @param bytesDelivered bytes of the sender written to the receiver (flipped or not; no garbage)
 * @param bitsFlipped    data bits flipped in them
 * @param bytesDropped   bytes dropped by the drop rate
 * @param garbageBursts  garbage bursts inserted
 * @param garbageBytes   garbage bytes inserted
 * @param bytesLost      bytes lost while unplugged (or to a receiver that hung up)
 * @param unplugs        how many times the line was unplugged
 */
public record LineCounters(long bytesRead, long bytesDelivered, long bitsFlipped, long bytesDropped,
                           long garbageBursts, long garbageBytes, long bytesLost, long unplugs) {
    @Override
    public String toString() {
        return "read " + bytesRead + ", delivered " + bytesDelivered + ", flipped bits " + bitsFlipped
                + ", dropped " + bytesDropped + ", garbage " + garbageBytes + " B in " + garbageBursts
                + " bursts, lost " + bytesLost + ", unplugs " + unplugs;
    }
}
