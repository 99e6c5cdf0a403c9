package io.mancom.testkit;

/**
 * What one direction of a {@link SerialLineRelay} does to the bytes it carries: the line rate and
 * the faults. Immutable; the {@code with...} methods return a changed copy.
 *
 * <ul>
 *   <li><b>baud</b> and <b>bitsPerByte</b>: the line carries {@code baud / bitsPerByte} bytes per
 *       second (10 for 8N1: a start bit, 8 data bits, a stop bit). {@code baud = 0} is unpaced
 *       (as fast as the ptys go).</li>
 *   <li><b>bitErrorRate</b>: each data bit is flipped with this probability (start and stop bits
 *       are not modelled: a byte keeps its place).</li>
 *   <li><b>dropRate</b>: each byte is lost with this probability (an overrun, a framing error).</li>
 *   <li><b>garbageRate</b>, <b>garbageMin</b>, <b>garbageMax</b>: before each byte, with
 *       probability {@code garbageRate}, a burst of {@code garbageMin..garbageMax} random bytes is
 *       inserted (line noise, a peer rebooting mid-frame); the burst takes line time too.</li>
 * </ul>
 *
 * <p>Probabilities are per byte (or per bit) carried, so the faults of a run depend only on the
 * bytes and the relay's seed, never on timing: the same seed and the same bytes give the same
 * faults at the same places.
 *
 * @param baud         line rate in bits per second, 0 for unpaced
 * @param bitsPerByte  line bits per byte (10 for 8N1, 11 for 8E1 or 8N2)
 * @param bitErrorRate probability that a data bit is flipped, 0 to 1
 * @param dropRate     probability that a byte is dropped, 0 to 1
 * @param garbageRate  probability, before each byte, of a garbage burst, 0 to 1
 * @param garbageMin   shortest burst, at least 1
 * @param garbageMax   longest burst, at least {@code garbageMin}
 */
public record LineProfile(long baud, int bitsPerByte, double bitErrorRate, double dropRate,
                          double garbageRate, int garbageMin, int garbageMax) {

    /** An unpaced, faultless line: a pty pair with a relay in the middle. */
    public static final LineProfile PERFECT = new LineProfile(0, 10, 0, 0, 0, 1, 1);

    /** Checks every field; an {@link IllegalArgumentException} names the field and the value. */
    public LineProfile {
        if (baud < 0) {
            throw new IllegalArgumentException("baud < 0: " + baud);
        }
        if (bitsPerByte < 8 || bitsPerByte > 12) {
            throw new IllegalArgumentException("bitsPerByte not in 8..12: " + bitsPerByte);
        }
        probability("bitErrorRate", bitErrorRate);
        probability("dropRate", dropRate);
        probability("garbageRate", garbageRate);
        if (garbageMin < 1 || garbageMax < garbageMin) {
            throw new IllegalArgumentException("garbage burst length must be 1 <= min <= max: " + garbageMin + ".." + garbageMax);
        }
    }

    /** A clean line at {@code baud}, 8N1 (10 bits per byte). */
    public static LineProfile clean(long baud) {
        return PERFECT.withBaud(baud);
    }

    /** This profile at another rate. */
    public LineProfile withBaud(long newBaud) {
        return new LineProfile(newBaud, bitsPerByte, bitErrorRate, dropRate, garbageRate, garbageMin, garbageMax);
    }

    /** This profile with {@code bits} line bits per byte. */
    public LineProfile withBitsPerByte(int bits) {
        return new LineProfile(baud, bits, bitErrorRate, dropRate, garbageRate, garbageMin, garbageMax);
    }

    /** This profile flipping each data bit with probability {@code ber}. */
    public LineProfile withBitErrorRate(double ber) {
        return new LineProfile(baud, bitsPerByte, ber, dropRate, garbageRate, garbageMin, garbageMax);
    }

    /** This profile dropping each byte with probability {@code rate}. */
    public LineProfile withDropRate(double rate) {
        return new LineProfile(baud, bitsPerByte, bitErrorRate, rate, garbageRate, garbageMin, garbageMax);
    }

    /** This profile inserting, before each byte with probability {@code rate}, {@code min..max} random bytes. */
    public LineProfile withGarbage(double rate, int min, int max) {
        return new LineProfile(baud, bitsPerByte, bitErrorRate, dropRate, rate, min, max);
    }

    /** Bytes per second the line carries, or 0 when unpaced. */
    public double bytesPerSecond() {
        return baud == 0 ? 0 : (double) baud / bitsPerByte;
    }

    /** Whether this profile changes bytes at all (flips, drops or garbage). */
    public boolean faulty() {
        return bitErrorRate > 0 || dropRate > 0 || garbageRate > 0;
    }

    private static void probability(String name, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(name + " not in 0..1: " + p);
        }
    }

    @Override
    public String toString() {
        return (baud == 0 ? "unpaced" : baud + " baud/" + bitsPerByte + " bits")
                + (bitErrorRate > 0 ? ", BER " + bitErrorRate : "")
                + (dropRate > 0 ? ", drop " + dropRate : "")
                + (garbageRate > 0 ? ", garbage " + garbageRate + " x " + garbageMin + ".." + garbageMax : "");
    }
}
