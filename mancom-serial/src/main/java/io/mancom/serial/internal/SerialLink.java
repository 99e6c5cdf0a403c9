package io.mancom.serial.internal;

import com.fazecast.jSerialComm.SerialPort;
import com.fazecast.jSerialComm.SerialPortDataListener;
import com.fazecast.jSerialComm.SerialPortEvent;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.ModemStatus;
import io.mancom.SerialAddress;
import io.mancom.core.spi.device.DeviceLink;
import io.mancom.spi.LineControl;
import io.netty.channel.unix.Errors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * An open jSerialComm port as a {@link DeviceLink}.
 *
 * <p>Two ways to serve it. With a {@linkplain #descriptor() descriptor} (Linux, epoll event
 * loops: the usual case) the port is non-blocking both ways (jSerialComm opens it
 * {@code O_NONBLOCK}; the opener sets {@code VMIN = VTIME = 0}) and the event loop reads and
 * writes it directly; jSerialComm only opens, configures, watches for disconnection and closes.
 * Without one, reads and writes go through jSerialComm on blocking threads, as follows.
 *
 * <p>Reads are semi-blocking (they return as soon as a byte is there, or after the line's read
 * timeout with none); writes block until the driver has every byte. jSerialComm's
 * PORT_DISCONNECTED event fires over and over once a port is gone (it polls a hung-up file); the
 * first one marks the link disconnected and reports the failure, the rest are ignored, and the
 * channel then closes the port, which ends them. A disconnected port's reads may return 0 at once
 * instead of failing (a hung-up tty reads as end of file), so a read that comes back empty on a
 * disconnected link fails too.
 *
 * <p>As a {@link LineControl} it sets DTR, RTS and the break with jSerialComm's one-{@code ioctl}
 * calls (thread-safe, non-blocking, so they may run on the event loop) and reconfigures the open
 * port with {@link LineSettings#applyToOpen}. A pseudo-terminal has no modem lines at all (its
 * {@code TIOCMGET} fails with ENOTTY, which jSerialComm's getters turn into "off"): it is
 * recognised by its path, so that the modem-line calls fail with a message saying so instead of
 * reporting lines that do not exist as off.
 */
final class SerialLink implements DeviceLink, LineControl {
    /** Largest piece copied out of a direct buffer per native write. */
    private static final int WRITE_CHUNK = 64 * 1024;

    private final SerialPort port;
    private final EndPoint endpoint;
    private final String device;
    private final int descriptor;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean disconnected = new AtomicBoolean();
    private volatile Consumer<? super IOException> failureListener;
    private volatile SerialAddress settings;
    private final boolean pty;
    /**
     * Held by closePort and by the one-ioctl line-control calls: jSerialComm does not lock those
     * calls, and they read the port's handle twice (a check, then the native call), so a close
     * between the two would pass the native code a handle of 0 (a NULL dereference).
     */
    private final Object portLock = new Object();
    /** jSerialComm's event thread, once it has delivered an event. */
    private volatile Thread eventThread;
    /** Reusable copies for writes, by power-of-two size from 1 KiB to 64 KiB; writer thread only. */
    private final byte[][] scratch = new byte[7][];

    private SerialLink(SerialPort port, EndPoint endpoint, String device, int descriptor) {
        this.port = port;
        this.endpoint = endpoint;
        this.device = device;
        this.descriptor = descriptor;
        this.settings = (SerialAddress) endpoint.address();
        this.pty = isPty(device);
    }

    /** Whether {@code device} is (a link to) a Unix 98 pseudo-terminal, {@code /dev/pts/N}. */
    static boolean isPty(String device) {
        try {
            return Path.of(device).toRealPath().startsWith("/dev/pts/");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * @param descriptor the port's file descriptor for the event loop to serve, with the port in
     *                   non-blocking mode; -1 to be served through {@link #read} and {@link #write}
     */
    static SerialLink start(SerialPort port, EndPoint endpoint, String device, int descriptor) {
        SerialLink link = new SerialLink(port, endpoint, device, descriptor);
        port.addDataListener(link.new Disconnects());
        return link;
    }

    @Override
    public int read(byte[] dst, int off, int len) throws IOException {
        if (closed.get()) {
            return -1;
        }
        // One read(2): a tty hands out at most its 4 KiB line buffer per read. Asking how much more
        // is waiting (FIONREAD) would cost a system call per read and rarely find anything on a
        // pty (its buffer is refilled asynchronously); the channel does not need big reads, it
        // does not wake its event loop for every read.
        int n = port.readBytes(dst, len, off);
        if (n > 0) {
            return n;
        }
        if (closed.get()) {
            // Closed while the read waited: jSerialComm returns 0 or -1 depending on where the
            // close caught it; either way the link is at its end.
            return -1;
        }
        if (disconnected.get()) {
            throw disconnectedException();
        }
        if (n == 0) {
            return 0;
        }
        int errno = port.getLastErrorCode();
        throw new ManComException(Reason.LINK_FAILED, "serial port " + device + ": read failed: " + Errno.describe(errno)
                + (errno == Errno.EIO ? "; the device was unplugged or hung up" : ""));
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            if (closed.get()) {
                throw new ManComException(Reason.CLOSED, "serial port " + device + " is closed");
            }
            byte[] array;
            int offset;
            int len;
            if (src.hasArray() && src.arrayOffset() + src.position() == 0 && src.remaining() == src.array().length) {
                array = src.array();
                offset = 0;
                len = src.remaining();
            } else {
                // jSerialComm's native write copies the whole Java array it is given, however
                // little of it is written: a slice of a pooled buffer's megabyte-sized chunk
                // would cost a megabyte of copying per write. So only a piece goes over.
                len = Math.min(src.remaining(), WRITE_CHUNK);
                byte[] scratch = scratchFor(len);
                src.duplicate().get(scratch, 0, len);
                array = scratch;
                offset = 0;
            }
            // jSerialComm loops until all is written or the driver fails; less than asked is a failure.
            int n = port.writeBytes(array, len, offset);
            if (n > 0) {
                src.position(src.position() + n);
            }
            if (n < len) {
                if (disconnected.get()) {
                    throw disconnectedException();
                }
                if (closed.get()) {
                    throw new ManComException(Reason.CLOSED, "serial port " + device + " is closed");
                }
                int errno = port.getLastErrorCode();
                throw new ManComException(Reason.LINK_FAILED, "serial port " + device + ": write failed: "
                        + Errno.describe(errno) + (errno == Errno.EIO ? "; the device was unplugged or hung up" : ""));
            }
        }
    }

    /** An array of at least {@code len} bytes and at most twice that (or 1 KiB). */
    private byte[] scratchFor(int len) {
        int size = Math.max(1024, Integer.highestOneBit(Math.max(1, len - 1)) << 1);
        int index = Integer.numberOfTrailingZeros(size) - 10;
        byte[] b = scratch[index];
        if (b == null) {
            b = new byte[size];
            scratch[index] = b;
        }
        return b;
    }

    @Override
    public int descriptor() {
        return descriptor;
    }

    @Override
    public IOException descriptorFailure(IOException cause) {
        if (cause == null || disconnected.get()) {
            return disconnectedException();
        }
        int errno = cause instanceof Errors.NativeIoException n ? -n.expectedErr() : 0;
        return new ManComException(Reason.LINK_FAILED, "serial port " + device + ": "
                + (errno > 0 ? "I/O failed: " + Errno.describe(errno) : cause.getMessage())
                + (errno == Errno.EIO ? "; the device was unplugged or hung up" : ""), cause);
    }

    @Override
    public void onFailure(Consumer<? super IOException> listener) {
        failureListener = listener;
        if (disconnected.get()) {
            listener.accept(disconnectedException()); // lost between open and now
        }
    }

    /**
     * Closes the port: stops jSerialComm's event thread, then releases the flock, closes the
     * descriptor and wakes a blocked read. Blocks until the event thread has ended (up to its
     * 500 ms poll), whatever interrupts the calling thread meanwhile.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // Why a thread of its own: jSerialComm's closePort (and removeDataListener) joins the
        // event thread, but an interrupt of the caller (the blocking pool's shutdownNow, which
        // catches this close inside that join: the thread sits in a 500 ms poll) ends the join
        // early and it closes anyway: the port's handle becomes 0 and its descriptor is closed
        // while the event thread still runs. That thread then calls the native waitForEvent
        // with handle 0 (a NULL dereference: SIGSEGV), or with the native port record that
        // SerialPort.getCommPorts() (our NO_DEVICE message, a reopen attempt) frees once the
        // port is closed (a use after free), or polls a closed descriptor whose number is reused.
        // Nobody interrupts this thread, so the join always completes before the port closes.
        if (Thread.currentThread() == eventThread) {
            // From our own listener: jSerialComm does not join its own thread, which then ends
            // without another waitForEvent; a closer thread would deadlock joining it.
            closePort();
            return;
        }
        Thread closer = new Thread(this::closePort, "mancom-serial-close " + device);
        closer.setDaemon(true);
        closer.start();
        boolean interrupted = false;
        while (true) {
            try {
                closer.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the port must be closed before the caller goes on (reopening, BUSY)
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void closePort() {
        // The event thread first, joined while the port is still open, then the port (see portLock).
        port.removeDataListener();
        synchronized (portLock) {
            port.closePort();
        }
    }

    // ---- LineControl ----

    @Override
    public SerialAddress settings() {
        return settings;
    }

    @Override
    public void setDtr(boolean on) throws ManComException {
        synchronized (portLock) {
            checkModemLines();
            checkOpen();
            if (!(on ? port.setDTR() : port.clearDTR())) {
                throw lineFailure((on ? "setting" : "clearing") + " DTR");
            }
        }
    }

    @Override
    public void setRts(boolean on) throws ManComException {
        synchronized (portLock) {
            checkModemLines();
            checkOpen();
            if (!(on ? port.setRTS() : port.clearRTS())) {
                throw lineFailure((on ? "setting" : "clearing") + " RTS");
            }
        }
    }

    @Override
    public ModemStatus modemStatus() throws ManComException {
        synchronized (portLock) {
            checkModemLines();
            checkOpen();
            return new ModemStatus(port.getCTS(), port.getDSR(), port.getDCD(), port.getRI());
        }
    }

    @Override
    public void checkModemLines() throws ManComException {
        if (pty) {
            throw new ManComException(Reason.IO, "serial port " + device + " is a pseudo-terminal, which has no modem lines "
                    + "(DTR, RTS, CTS, DSR, DCD, RI): the modem-line ioctls fail with "
                    + Errno.describe(Errno.ENOTTY) + ". Only a real UART or USB serial adapter has them");
        }
    }

    @Override
    public void setBreak(boolean on) throws ManComException {
        synchronized (portLock) {
            checkOpen();
            if (!(on ? port.setBreak() : port.clearBreak())) {
                throw lineFailure((on ? "starting" : "ending") + " a break");
            }
        }
    }

    @Override
    public void reconfigure(SerialAddress next) throws ManComException {
        LineSettings line = LineSettings.of(next); // CONFIG for what the platform cannot do, before touching the port
        boolean loopIo = descriptor >= 0;
        synchronized (this) {
            checkOpen();
            if (!line.applyToOpen(port, loopIo)) {
                ManComException failure = lineFailure("applying " + next.toUri());
                LineSettings.of(settings).applyToOpen(port, loopIo); // back to what worked
                RawInput.clearBreakInterrupt(device);
                throw failure;
            }
            settings = next;
            // jSerialComm sets BRKINT again whenever it configures the port.
            RawInput.clearBreakInterrupt(device);
        }
    }

    /** Line control on a closed port: CLOSED. Called with portLock held, so the port stays open until the call ends. */
    private void checkOpen() throws ManComException {
        if (closed.get()) {
            throw new ManComException(Reason.CLOSED, "serial port " + device + " is closed");
        }
    }

    private ManComException lineFailure(String what) {
        if (closed.get()) {
            return new ManComException(Reason.CLOSED, "serial port " + device + " is closed");
        }
        return new ManComException(Reason.IO, "serial port " + device + ": " + what + " failed: "
                + Errno.describe(port.getLastErrorCode()));
    }

    @Override
    public EndPoint local() {
        return endpoint;
    }

    @Override
    public EndPoint remote() {
        return endpoint;
    }

    private ManComException disconnectedException() {
        return new ManComException(Reason.LINK_FAILED, "serial port " + device + " was disconnected (unplugged, or its "
                + "other side hung up)");
    }

    @Override
    public String toString() {
        return "SerialLink[" + device + "]";
    }

    private final class Disconnects implements SerialPortDataListener {
        @Override
        public int getListeningEvents() {
            return SerialPort.LISTENING_EVENT_PORT_DISCONNECTED;
        }

        @Override
        public void serialEvent(SerialPortEvent event) {
            eventThread = Thread.currentThread();
            if ((event.getEventType() & SerialPort.LISTENING_EVENT_PORT_DISCONNECTED) == 0
                    || closed.get() || !disconnected.compareAndSet(false, true)) {
                return; // the event repeats until the port is closed: act on the first only
            }
            Consumer<? super IOException> l = failureListener;
            if (l != null) {
                l.accept(disconnectedException());
            }
        }
    }
}
