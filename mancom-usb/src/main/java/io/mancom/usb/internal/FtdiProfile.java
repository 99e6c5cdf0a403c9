package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.UsbAddress;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code ftdi} profile: an FTDI USB-UART chip (FT232R/BM and kin, {@code 0403:6001}) driven
 * directly over its bulk pair.
 *
 * <ul>
 *   <li>At open, the line is set with FTDI's vendor control requests (type 0x40): reset
 *       ({@code SIO_RESET}), modem control (DTR and RTS up), flow control, baud-rate divisor,
 *       data characteristics (bits, parity, stop bits) and the latency timer.</li>
 *   <li>Every IN <em>packet</em> (max-packet-size unit; a transfer holds several, the last one
 *       possibly short) starts with two modem-status bytes, which are removed before the data
 *       reaches the channel ({@link #strip}).</li>
 *   <li>OUT data goes out as it is (FT232-class chips take no header on OUT).</li>
 * </ul>
 *
 * Options ({@code usb://0403:6001?profile=ftdi&baud=115200&data=8&parity=none&stop=1&flow=none&latency=2}):
 * {@code baud} (default 115200; 183..3000000), {@code data} (7 or 8, default 8), {@code parity}
 * (none, odd, even, mark, space; default none), {@code stop} (1, 1.5 or 2; default 1), {@code flow}
 * (none, rtscts, dtrdsr, xonxoff; default none), {@code latency} (the chip's latency timer in ms,
 * 1..255, default 2; how long the chip holds a partly filled packet before sending it).
 *
 * <p>Immutable and thread-safe.
 */
public final class FtdiProfile {
    /** Bytes of modem status at the start of every IN packet. */
    public static final int STATUS_BYTES = 2;
    static final int REQUEST_TYPE_OUT = 0x40; // vendor, device, host-to-device
    static final int SIO_RESET = 0;
    static final int SIO_SET_MODEM_CTRL = 1;
    static final int SIO_SET_FLOW_CTRL = 2;
    static final int SIO_SET_BAUD_RATE = 3;
    static final int SIO_SET_DATA = 4;
    static final int SIO_SET_LATENCY_TIMER = 9;
    /** The chip's baud clock: 48 MHz / 16. */
    static final int BASE_CLOCK = 3_000_000;
    private static final Set<String> OPTIONS = new TreeSet<>(Set.of("baud", "data", "parity", "stop", "flow", "latency"));
    private static final long CONTROL_TIMEOUT_MILLIS = 1000;

    private final int baud;
    private final int dataBits;
    private final int parity;
    private final int stopBits;
    private final int flow;
    private final int latency;

    FtdiProfile(int baud, int dataBits, int parity, int stopBits, int flow, int latency) {
        this.baud = baud;
        this.dataBits = dataBits;
        this.parity = parity;
        this.stopBits = stopBits;
        this.flow = flow;
        this.latency = latency;
    }

    /**
     * The profile for the endpoint's options.
     *
     * @throws ManComException {@code CONFIG} naming the option for an unknown option or a bad value
     */
    public static FtdiProfile of(EndPoint endpoint, UsbAddress a) throws ManComException {
        Map<String, String> o = a.options();
        for (String k : o.keySet()) {
            if (!OPTIONS.contains(k)) {
                throw config(endpoint, k + "=" + o.get(k) + " is not an option of profile=ftdi; its options: "
                        + String.join(", ", OPTIONS));
            }
        }
        int baud = integer(endpoint, o, "baud", 115_200, 183, BASE_CLOCK);
        int data = integer(endpoint, o, "data", 8, 7, 8);
        int parity = choice(endpoint, o, "parity", "none", List.of("none", "odd", "even", "mark", "space"));
        int stop = choice(endpoint, o, "stop", "1", List.of("1", "1.5", "2"));
        int flow = choice(endpoint, o, "flow", "none", List.of("none", "rtscts", "dtrdsr", "xonxoff"));
        int latency = integer(endpoint, o, "latency", 2, 1, 255);
        return new FtdiProfile(baud, data, parity, stop, flow, latency);
    }

    private static int integer(EndPoint e, Map<String, String> o, String key, int dflt, int min, int max) throws ManComException {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        int n;
        try {
            n = Integer.parseInt(v.strip());
        } catch (NumberFormatException x) {
            throw config(e, key + "=" + v + " is not a whole number");
        }
        if (n < min || n > max) {
            throw config(e, key + "=" + v + " is out of range " + min + ".." + max);
        }
        return n;
    }

    private static int choice(EndPoint e, Map<String, String> o, String key, String dflt, List<String> values) throws ManComException {
        String v = o.getOrDefault(key, dflt).strip().toLowerCase(Locale.ROOT);
        int i = values.indexOf(v);
        if (i < 0) {
            throw config(e, key + "=" + o.get(key) + " is not one of " + String.join(", ", values));
        }
        return i;
    }

    private static ManComException config(EndPoint e, String what) {
        return new ManComException(Reason.CONFIG, what + " (in " + e + ")");
    }

    /** The baud rate asked for. */
    public int baud() {
        return baud;
    }

    /**
     * The divisor of {@link #BASE_CLOCK} for {@code baud} as FTDI's SET_BAUD_RATE request carries
     * it: a 14-bit integer part and a 3-bit fraction in eighths, whose code is spread over bits
     * 14-15 of wValue and bit 0 of wIndex. Returns {@code (wIndex << 16) | wValue}.
     */
    static int encodeDivisor(int baud) {
        // The divisor in eighths, rounded to the nearest.
        int eighths = (int) ((8L * BASE_CLOCK + baud / 2) / baud);
        int whole = eighths >> 3;
        int frac = eighths & 7;
        // Fraction (eighths) -> the chip's 3-bit code: 0, 1/8, 2/8, 3/8, 4/8, 5/8, 6/8, 7/8.
        int[] code = {0, 3, 2, 4, 1, 5, 6, 7};
        if (whole == 1 && frac == 0) {
            return 0; // 3 Mbaud: divisor 1 is written as 0
        }
        if (whole == 1 && frac == 4) {
            return 1; // 2 Mbaud: divisor 1.5 is written as 1
        }
        if (whole > 0x3fff) {
            whole = 0x3fff;
            frac = 7;
        }
        return whole | (code[frac] << 14);
    }

    /** The baud rate the chip actually runs at for {@link #encodeDivisor}'s encoding. */
    static double actualBaud(int encoded) {
        if (encoded == 0) {
            return BASE_CLOCK;
        }
        if (encoded == 1) {
            return BASE_CLOCK / 1.5;
        }
        int[] eighthsOf = {0, 4, 2, 1, 3, 5, 6, 7};
        int whole = encoded & 0x3fff;
        int frac = eighthsOf[(encoded >> 14) & 7];
        return BASE_CLOCK * 8.0 / (whole * 8 + frac);
    }

    /** One vendor request the profile sends; for tests and logs. */
    record Request(int request, int value, int index) {
    }

    /** The requests {@link #configure} sends for interface {@code iface}, in order. */
    List<Request> requests(int iface) {
        int port = iface + 1; // FTDI numbers the ports (interfaces) from 1 in wIndex
        int div = encodeDivisor(baud);
        List<Request> r = new ArrayList<>();
        r.add(new Request(SIO_RESET, 0, port)); // reset the chip's port
        r.add(new Request(SIO_SET_MODEM_CTRL, 0x0303, port)); // DTR and RTS up (mask 0x03 << 8)
        int flowBits = switch (flow) {
            case 1 -> 0x01;
            case 2 -> 0x02;
            case 3 -> 0x04;
            default -> 0;
        };
        r.add(new Request(SIO_SET_FLOW_CTRL, flow == 3 ? 0x1311 : 0, (flowBits << 8) | port)); // XON 0x11, XOFF 0x13
        // Single-port chips take the divisor's high part in wIndex as it is; multi-port chips
        // take it in the high byte and the port in the low byte.
        int divIndex = iface == 0 ? div >>> 16 : ((div >>> 16) << 8) | port;
        r.add(new Request(SIO_SET_BAUD_RATE, div & 0xffff, divIndex));
        r.add(new Request(SIO_SET_DATA, dataBits | (parity << 8) | (stopBits << 11), port));
        r.add(new Request(SIO_SET_LATENCY_TIMER, latency, port));
        return r;
    }

    /**
     * Sets the line parameters of interface {@code iface}, a claimed interface of an open
     * device. Blocks (control transfers).
     */
    void configure(UsbHandle h, int iface, EndPoint endpoint, UsbErrors errors) throws ManComException {
        ByteBuffer none = ByteBuffer.allocateDirect(0);
        for (Request q : requests(iface)) {
            try {
                h.control(REQUEST_TYPE_OUT, q.request(), q.value(), q.index(), none, CONTROL_TIMEOUT_MILLIS);
            } catch (UsbBackendException e) {
                if (e.kind() == UsbBackendException.Kind.NO_DEVICE) {
                    throw errors.gone(h.device());
                }
                throw new ManComException(Reason.CONFIG, String.format(Locale.ROOT,
                        "profile=ftdi: USB device %s refused FTDI request %d (value 0x%04x, index 0x%04x): %s: %s. Is it an"
                                + " FTDI USB-UART chip? (in %s)", h.device().describe(), q.request(), q.value(), q.index(),
                        e.code(), e.getMessage(), endpoint), e);
            }
        }
    }

    /**
     * Removes the {@link #STATUS_BYTES} status bytes at the start of every packet of an IN
     * transfer: the {@code length} bytes at {@code buf}'s index 0 are packets of
     * {@code maxPacket} bytes (the last one possibly short). The data is moved down in place;
     * returns its length. A transfer always starts at a packet boundary, so nothing carries over
     * from one transfer to the next.
     */
    public static int strip(ByteBuffer buf, int length, int maxPacket) {
        int to = 0;
        for (int p = 0; p < length; p += maxPacket) {
            int end = Math.min(p + maxPacket, length);
            int from = p + STATUS_BYTES;
            if (from >= end) {
                continue; // a packet of status only
            }
            int n = end - from;
            if (to != from) {
                for (int i = 0; i < n; i++) { // moves down (to < from): a forward copy is safe
                    buf.put(to + i, buf.get(from + i));
                }
            }
            to += n;
        }
        return to;
    }
}
