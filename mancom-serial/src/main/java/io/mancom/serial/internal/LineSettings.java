package io.mancom.serial.internal;

import com.fazecast.jSerialComm.SerialPort;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.SerialAddress;

import java.time.Duration;
import java.util.Locale;

/**
 * A {@link SerialAddress}'s line settings in jSerialComm's terms (its int constants stay in here).
 *
 * @param readTimeoutMillis the wait of one device read, 100 ms to 25.5 s: termios counts it in
 *                          tenths of a second, and below one tenth jSerialComm would poll
 *                          without waiting
 */
record LineSettings(int baud, int dataBits, int stopBits, int parity, int flow, int readTimeoutMillis) {

    /** The read wait when the endpoint leaves {@code timeout} at 0: short, so a close is noticed at once. */
    static final Duration DEFAULT_READ_TIMEOUT = Duration.ofMillis(100);

    static LineSettings of(SerialAddress a) throws ManComException {
        return of(a, System.getProperty("os.name", ""));
    }

    static LineSettings of(SerialAddress a, String osName) throws ManComException {
        Duration t = a.readTimeout().isZero() ? DEFAULT_READ_TIMEOUT : a.readTimeout();
        int timeout = (int) Math.max(100, Math.min(25_500, t.toMillis()));
        return new LineSettings(a.baud(), a.dataBits(), stopBits(a, osName), parity(a.parity()), flow(a.flow()), timeout);
    }

    void applyTo(SerialPort port) {
        port.setComPortParameters(baud, dataBits, stopBits, parity);
        port.setFlowControl(flow);
        // Semi-blocking: a read returns as soon as any byte is there, or after the timeout with
        // none; the device reader then checks whether the channel was closed.
        port.setComPortTimeouts(SerialPort.TIMEOUT_READ_SEMI_BLOCKING, readTimeoutMillis, 0);
    }

    /**
     * Applies baud rate, framing and flow control to an open port, and the read timeout unless the
     * event loop serves the port ({@code loopIo}: its timeouts stay non-blocking).
     *
     * @return whether the driver took every setting (if not, {@code getLastErrorCode} says why)
     */
    boolean applyToOpen(SerialPort port, boolean loopIo) {
        boolean ok = port.setComPortParameters(baud, dataBits, stopBits, parity);
        ok &= port.setFlowControl(flow);
        if (!loopIo) {
            ok &= port.setComPortTimeouts(SerialPort.TIMEOUT_READ_SEMI_BLOCKING, readTimeoutMillis, 0);
        }
        return ok;
    }

    private static int stopBits(SerialAddress a, String osName) throws ManComException {
        switch (a.stopBits()) {
            case ONE:
                return SerialPort.ONE_STOP_BIT;
            case TWO:
                return SerialPort.TWO_STOP_BITS;
            case ONE_POINT_FIVE:
                if (osName.toLowerCase(Locale.ROOT).startsWith("windows")) {
                    return SerialPort.ONE_POINT_FIVE_STOP_BITS;
                }
                // termios has no 1.5 setting: a UART sends 1.5 stop bits when told "2" with 5-bit
                // characters, and jSerialComm would silently send 1 otherwise.
                if (a.dataBits() == 5) {
                    return SerialPort.TWO_STOP_BITS;
                }
                throw new ManComException(Reason.CONFIG, "serial endpoint " + a.toUri() + ": stopbits=1.5 needs databits=5 on "
                        + osName + " (termios has no 1.5 setting; with 5 data bits the UART's 2-stop-bit setting sends 1.5). "
                        + "Use stopbits=1 or stopbits=2, or databits=5");
            default:
                throw new AssertionError(a.stopBits());
        }
    }

    private static int parity(SerialAddress.Parity p) {
        switch (p) {
            case NONE: return SerialPort.NO_PARITY;
            case EVEN: return SerialPort.EVEN_PARITY;
            case ODD: return SerialPort.ODD_PARITY;
            case MARK: return SerialPort.MARK_PARITY;
            case SPACE: return SerialPort.SPACE_PARITY;
            default: throw new AssertionError(p);
        }
    }

    private static int flow(SerialAddress.FlowControl f) {
        switch (f) {
            case NONE: return SerialPort.FLOW_CONTROL_DISABLED;
            case RTSCTS: return SerialPort.FLOW_CONTROL_RTS_ENABLED | SerialPort.FLOW_CONTROL_CTS_ENABLED;
            case XONXOFF: return SerialPort.FLOW_CONTROL_XONXOFF_IN_ENABLED | SerialPort.FLOW_CONTROL_XONXOFF_OUT_ENABLED;
            default: throw new AssertionError(f);
        }
    }
}
