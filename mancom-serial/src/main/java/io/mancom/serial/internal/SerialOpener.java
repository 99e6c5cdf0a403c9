package io.mancom.serial.internal;

import com.fazecast.jSerialComm.SerialPort;
import com.fazecast.jSerialComm.SerialPortInvalidPortException;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.SerialAddress;
import io.mancom.core.spi.device.DeviceLink;
import io.mancom.core.spi.device.DeviceOpener;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens {@code serial://} endpoints with jSerialComm: by explicit path (a {@code /dev/tty*}
 * device, a pty, or a link to either such as {@code /dev/serial/by-id/...}), with the endpoint's
 * line settings, and with jSerialComm's exclusive lock (flock) so that two programs cannot both
 * use the line.
 *
 * <p>Thread-safe. Opens are serialised JVM-wide: jSerialComm keeps its last error in a global,
 * and the error is read right after the failed open. Listing the ports ({@link #commPorts()})
 * takes the same lock (why: there).
 */
public final class SerialOpener implements DeviceOpener {
    private static final Object OPEN_LOCK = new Object();

    private final OpenFailures failures;
    private final boolean loopIo;

    /**
     * @param loopIo whether the runtime's event loops are epoll loops that can serve the port's
     *               descriptor themselves (then a port is opened for that where possible)
     */
    public SerialOpener(boolean loopIo) {
        this(new OpenFailures(), loopIo);
    }

    SerialOpener(OpenFailures failures, boolean loopIo) {
        this.failures = failures;
        this.loopIo = loopIo;
    }

    /**
     * {@link SerialPort#getCommPorts()}, never while a port is being opened. Why: jSerialComm's
     * listing frees the native record of every port it did not enumerate (a pty, a link) whose
     * descriptor is not open, and its open looks that record up, releases its lock, opens the
     * device and only then stores the descriptor in it: a listing in between frees the record the
     * open then writes to (heap corruption: a stress run that opened, closed and listed ptys from
     * four threads crashed the JVM without this lock, not with it). Closes are safe: a record is freed only once its port is closed and, with
     * {@link SerialLink#close()}, its event thread has ended.
     */
    public static SerialPort[] commPorts() {
        synchronized (OPEN_LOCK) {
            return SerialPort.getCommPorts();
        }
    }

    @Override
    public DeviceLink open(EndPoint endpoint) throws ManComException {
        if (!(endpoint.address() instanceof SerialAddress address)) {
            throw new IllegalArgumentException("not a serial endpoint: " + endpoint);
        }
        LineSettings line = LineSettings.of(address);
        String device = address.device();
        Path path = Path.of(device);
        // Checked first so that the message names the path the user wrote (jSerialComm resolves
        // links) and lists what exists instead.
        if (!Files.exists(path)) {
            throw failures.noSuchPort(device);
        }
        if (!Files.isReadable(path) || !Files.isWritable(path)) {
            throw failures.permissionDenied(device);
        }
        SerialPort port;
        synchronized (OPEN_LOCK) {
            try {
                port = SerialPort.getCommPort(device);
            } catch (SerialPortInvalidPortException e) {
                throw failures.noSuchPort(device); // removed since the check above
            }
            line.applyTo(port);
            if (loopIo) {
                // VMIN = VTIME = 0: a read returns at once, with what is there (the loop reads only
                // when epoll says there is something). jSerialComm opens ports O_NONBLOCK anyway.
                port.setComPortTimeouts(SerialPort.TIMEOUT_NONBLOCKING, 0, 0);
            }
            // 0: no "safety sleep" before opening (jSerialComm's default waits a second).
            if (!port.openPort(0)) {
                throw failures.openFailed(device, port.getLastErrorCode());
            }
        }
        int descriptor = loopIo ? OpenDescriptor.find(device) : -1;
        if (loopIo && descriptor < 0) {
            line.applyTo(port); // not found: blocking threads serve it, with the line's read timeout
        }
        SerialLink link = SerialLink.start(port, endpoint, device, descriptor);
        // jSerialComm sets BRKINT (again when the link adds its listener, which reconfigures the
        // port), which costs the kernel's raw fast path and lets a break flush received data:
        // clear it now, before the first read (see RawInput).
        RawInput.clearBreakInterrupt(device);
        return link;
    }
}
