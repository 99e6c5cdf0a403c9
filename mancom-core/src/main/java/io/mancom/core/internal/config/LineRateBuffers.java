package io.mancom.core.internal.config;

import com.typesafe.config.ConfigOrigin;
import io.mancom.EndPoint;
import io.mancom.SerialAddress;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.util.Locale;

/**
 * A serial line's default buffers, sized from its line rate instead of a LAN's (issue 22): at
 * 115200 baud the reference.conf write queue of 256 KiB is 23 s of line time, so a command
 * queued behind it arrives 23 s late. For a {@code serial://} endpoint whose {@code
 * write-buffer.low-water}, {@code write-buffer.high-water} and {@code blocking.read-buffer} come
 * from a reference.conf (nobody set them), this derives them from the line's bytes per second
 * ({@code baud / (start + data + parity + stop bits)}):
 *
 * <ul>
 *   <li>high-water: {@link #WRITE_SECONDS} of line time, at least {@link #WRITE_FLOOR} (a tty's own
 *       buffer is 4 KiB, so less would not shorten the wait);</li>
 *   <li>low-water: half of that, at least {@code WRITE_FLOOR / 2};</li>
 *   <li>read-buffer: {@link #READ_SECONDS} of line time, at least {@link #READ_FLOOR};</li>
 * </ul>
 * never more than the reference value. A value set anywhere else (a config file, a system
 * property, {@code mancom.defaults}) is kept as it is. {@code mancom config check} shows the
 * derived values and why ({@link #reportSource}). Stateless; thread-safe.
 */
final class LineRateBuffers {
    static final double WRITE_SECONDS = 0.25;
    static final int WRITE_FLOOR = 4096;
    static final double READ_SECONDS = 1.0;
    static final int READ_FLOOR = 16384;

    static final String LOW = "write-buffer.low-water";
    static final String HIGH = "write-buffer.high-water";
    static final String READ = "blocking.read-buffer";

    private LineRateBuffers() {
    }

    /** Bytes per second of {@code a}'s line: one start bit, the data bits, the parity bit if any, the stop bits. */
    static double bytesPerSecond(SerialAddress a) {
        double stop = switch (a.stopBits()) {
            case ONE -> 1;
            case ONE_POINT_FIVE -> 1.5;
            case TWO -> 2;
        };
        return a.baud() / (1 + a.dataBits() + (a.parity() == SerialAddress.Parity.NONE ? 0 : 1) + stop);
    }

    /** The derived value of {@code key} for a line of {@code a} whose reference value is {@code reference}. */
    static long derive(String key, SerialAddress a, long reference) {
        double rate = bytesPerSecond(a);
        long v = switch (key) {
            case HIGH -> Math.max(WRITE_FLOOR, Math.round(rate * WRITE_SECONDS));
            case LOW -> Math.max(WRITE_FLOOR / 2, Math.round(rate * WRITE_SECONDS / 2));
            case READ -> Math.max(READ_FLOOR, Math.round(rate * READ_SECONDS));
            default -> throw new IllegalArgumentException(key);
        };
        return Math.min(v, reference);
    }

    /** Whether {@code key} of block {@code b} takes its value from a reference.conf. */
    private static boolean fromReference(Settings b, String key) {
        return b.hasPath(key) && isReference(b.origin(key));
    }

    private static boolean isReference(ConfigOrigin origin) {
        return origin != null && origin.resource() != null;
    }

    /** {@code write-buffer.low-water} as read from block {@code b}, derived when nobody set it on a serial endpoint. */
    static int lowWater(EndPoint endpoint, Settings b, int value) {
        return endpoint != null && endpoint.address() instanceof SerialAddress a && fromReference(b, "low-water")
                ? (int) derive(LOW, a, value) : value;
    }

    /** {@code write-buffer.high-water} as read from block {@code b}, derived when nobody set it on a serial endpoint. */
    static int highWater(EndPoint endpoint, Settings b, int value) {
        return endpoint != null && endpoint.address() instanceof SerialAddress a && fromReference(b, "high-water")
                ? (int) derive(HIGH, a, value) : value;
    }

    /** The blocking settings read from block {@code b}, with a read buffer nobody set derived on a serial endpoint. */
    static ServiceSettings.Blocking blocking(EndPoint endpoint, Settings b, ServiceSettings.Blocking read) {
        if (read == null || endpoint == null || !(endpoint.address() instanceof SerialAddress a) || !fromReference(b, "read-buffer")) {
            return read;
        }
        return new ServiceSettings.Blocking((int) derive(READ, a, read.readBuffer()), read.acceptBacklog());
    }

    /**
     * For {@code mancom config check}: the value in force and why, when {@code key} of service
     * {@code s} was derived from its line rate; null otherwise.
     */
    static String[] reportSource(ServiceSettings s, String key, ConfigOrigin origin) {
        if (!(s.endpoint().address() instanceof SerialAddress a) || !isReference(origin)) {
            return null;
        }
        long value;
        String rule;
        switch (key) {
            case HIGH -> {
                value = s.writeBuffer().highWater();
                rule = WRITE_SECONDS + " s of line time, at least " + WRITE_FLOOR + " B";
            }
            case LOW -> {
                value = s.writeBuffer().lowWater();
                rule = "half of high-water, at least " + WRITE_FLOOR / 2 + " B";
            }
            case READ -> {
                value = s.blocking().readBuffer();
                rule = READ_SECONDS + " s of line time, at least " + READ_FLOOR + " B";
            }
            default -> {
                return null;
            }
        }
        return new String[] {value + "B", String.format(Locale.ROOT,
                "derived from baud=%d (%.0f B/s): %s; set it to override (reference.conf has a LAN's value)",
                a.baud(), bytesPerSecond(a), rule)};
    }
}
