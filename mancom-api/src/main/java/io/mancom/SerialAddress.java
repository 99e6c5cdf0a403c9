package io.mancom;

import java.time.Duration;
import java.util.Objects;

/**
 * A serial line: the device path and its line settings.
 *
 * <p>URI form: {@code serial:///dev/ttyUSB0?baud=115200&databits=8&parity=none&stopbits=1&flow=none&timeout=0}.
 * Every option has a default, so {@code serial:///dev/ttyUSB0} alone is valid (115200 8N1, no
 * flow control, no read timeout).
 *
 * @param device      the device path, for example {@code /dev/ttyUSB0}
 * @param baud        bits per second, greater than 0
 * @param dataBits    5 to 8
 * @param parity      the parity bit
 * @param stopBits    the stop bits
 * @param flow        the flow control
 * @param readTimeout how long one device read may wait for data before it returns with what it has;
 *                    {@link Duration#ZERO} lets the transport choose
 */
public record SerialAddress(String device, int baud, int dataBits, Parity parity, StopBits stopBits,
                            FlowControl flow, Duration readTimeout) implements Address {

    /** The defaults used for options a URI leaves out. */
    public static final int DEFAULT_BAUD = 115200;

    public SerialAddress {
        if (device == null || device.isEmpty()) {
            throw new IllegalArgumentException("serial endpoint needs a device path: serial:///dev/ttyUSB0");
        }
        if (baud <= 0) {
            throw new IllegalArgumentException("baud must be greater than 0: " + baud);
        }
        if (dataBits < 5 || dataBits > 8) {
            throw new IllegalArgumentException("databits must be 5, 6, 7 or 8: " + dataBits);
        }
        Objects.requireNonNull(parity, "parity");
        Objects.requireNonNull(stopBits, "stopBits");
        Objects.requireNonNull(flow, "flow");
        Objects.requireNonNull(readTimeout, "readTimeout");
        if (readTimeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + readTimeout);
        }
    }

    /** A line at 115200 8N1 with no flow control. */
    public static SerialAddress of(String device) {
        return new SerialAddress(device, DEFAULT_BAUD, 8, Parity.NONE, StopBits.ONE, FlowControl.NONE, Duration.ZERO);
    }

    /** This line with another baud rate; for {@link SerialLine#reconfigure}. */
    public SerialAddress withBaud(int newBaud) {
        return new SerialAddress(device, newBaud, dataBits, parity, stopBits, flow, readTimeout);
    }

    /** This line with other framing (data bits, parity, stop bits); for {@link SerialLine#reconfigure}. */
    public SerialAddress withFraming(int newDataBits, Parity newParity, StopBits newStopBits) {
        return new SerialAddress(device, baud, newDataBits, newParity, newStopBits, flow, readTimeout);
    }

    /** This line with another flow control; for {@link SerialLine#reconfigure}. */
    public SerialAddress withFlow(FlowControl newFlow) {
        return new SerialAddress(device, baud, dataBits, parity, stopBits, newFlow, readTimeout);
    }

    @Override
    public TransportType type() {
        return TransportType.SERIAL;
    }

    @Override
    public String toUri() {
        return "serial://" + (device.startsWith("/") ? "" : "/") + UriOptions.encodePath(device)
                + "?baud=" + baud + "&databits=" + dataBits + "&parity=" + parity.uriValue()
                + "&stopbits=" + stopBits.uriValue() + "&flow=" + flow.uriValue()
                + "&timeout=" + UriOptions.formatDuration(readTimeout);
    }

    @Override
    public String toString() {
        return toUri();
    }

    /** The parity bit of a serial line. */
    public enum Parity {
        NONE, EVEN, ODD, MARK, SPACE;

        /** The value used in endpoint URIs. */
        public String uriValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The number of stop bits of a serial line. */
    public enum StopBits {
        ONE("1"), ONE_POINT_FIVE("1.5"), TWO("2");

        private final String uri;

        StopBits(String uri) {
            this.uri = uri;
        }

        /** The value used in endpoint URIs: {@code 1}, {@code 1.5} or {@code 2}. */
        public String uriValue() {
            return uri;
        }
    }

    /** The flow control of a serial line. */
    public enum FlowControl {
        NONE, RTSCTS, XONXOFF;

        /** The value used in endpoint URIs. */
        public String uriValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
