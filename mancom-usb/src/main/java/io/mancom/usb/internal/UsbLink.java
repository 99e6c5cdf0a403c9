package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.device.DeviceLink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A pair of bulk endpoints of a claimed interface as a {@link DeviceLink}: the blocking byte pipe
 * the device channel reads and writes, made of asynchronous transfers.
 *
 * <h2>Reading</h2>
 * {@link #IN_TRANSFERS} IN transfers of {@link #inTransferSize} bytes each (a whole number of
 * packets, so a device never overflows one) are kept in flight. A transfer that completes, whole
 * or short, waits in a queue until {@link #read} has handed out all its bytes, and only then is
 * submitted again: while the application does not read, the transfers run out, the device's
 * buffer fills and it NAKs the host, which holds it back. Completions are consumed in order. A
 * zero-length packet or an IN timeout with no data reads as 0 bytes.
 *
 * <h2>Writing</h2>
 * {@link #write} sends its bytes as OUT transfers of at most {@link #outTransferSize} bytes, a
 * whole number of max-size packets, one at a time; the host controller splits each into packets.
 * When the write's length is a multiple of the max packet size, a zero-length packet follows, so
 * that the device sees where the data ends (a device's IN transfer of the same size would
 * otherwise wait for more). Each OUT transfer has the endpoint's {@code timeout}.
 *
 * <h2>Stalls</h2>
 * A stalled endpoint is cleared ({@code CLEAR_FEATURE(ENDPOINT_HALT)}) and the transfer retried
 * (IN: resubmitted; OUT: the bytes the device did not take are sent again). A device that stalls
 * {@link #MAX_STALLS} times in a row without moving data in between fails the link.
 *
 * <h2>Loss</h2>
 * A transfer ending with "no device", or a departure event for the device, fails the link: the
 * failure listener is told at once (also while the application is not reading) and reads and
 * writes throw the same {@link ManComException} ({@code LINK_FAILED}, naming the device).
 *
 * <h2>Threading</h2>
 * As {@link DeviceLink} says: one reader thread, one writer thread, close from any. Transfer
 * callbacks run on the backend's event thread and only queue and notify.
 */
public final class UsbLink implements DeviceLink {
    private static final Logger log = LoggerFactory.getLogger(UsbLink.class);

    /** IN transfers kept in flight. */
    static final int IN_TRANSFERS = 4;
    /** The size IN and OUT transfers are rounded down to a packet multiple of. */
    static final int TRANSFER_BYTES = 16 * 1024;
    /** Stalls in a row without data moving in between that fail the link. */
    static final int MAX_STALLS = 3;
    /** How long one read waits for a completion before returning 0 (so the reader sees a close). */
    private static final long READ_WAIT_MILLIS = 200;
    /** How long close waits for cancelled transfers to come back before it gives up on them. */
    private static final long CANCEL_WAIT_MILLIS = 2000;

    private final UsbHandle handle;
    private final UsbDeviceRef device;
    private final int iface;
    private final UsbEndpoint in;
    private final UsbEndpoint out;
    private final long outTimeoutMillis;
    private final EndPoint local;
    private final EndPoint remote;
    private final UsbErrors errors;
    private final int inTransferSize;
    private final int outTransferSize;
    private final List<InSlot> slots = new ArrayList<>();
    private final ByteBuffer outBuffer;
    private final AtomicBoolean failureReported = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);

    private final Object lock = new Object();
    // Guarded by lock.
    private final ArrayDeque<InSlot> completed = new ArrayDeque<>();
    private int outstanding;
    private int inFlight;
    private ManComException failure;
    private Consumer<? super IOException> failureListener;
    private Runnable onClose = () -> { };

    private volatile boolean closing;
    private volatile UsbTransfer outTransfer;

    /** Status bytes at the start of every IN packet to remove (0: none); set before start. */
    private int inPacketHeader;

    // Reader thread only.
    private InSlot current;
    private int inStalls;
    private int inHaltClears;
    // Writer thread only.
    private int outStalls;

    /**
     * A link over an open handle whose interface {@code iface} is claimed. Call {@link #start()}
     * to put the IN transfers in flight. The link owns the handle: {@link #close()} releases the
     * interface and closes it.
     */
    public UsbLink(UsbHandle handle, int iface, UsbEndpoint in, UsbEndpoint out, Duration outTimeout,
                   EndPoint local, EndPoint remote, UsbErrors errors) {
        this.handle = handle;
        this.device = handle.device();
        this.iface = iface;
        this.in = in;
        this.out = out;
        this.outTimeoutMillis = outTimeout.toMillis();
        this.local = local;
        this.remote = remote;
        this.errors = errors;
        this.inTransferSize = packetMultiple(in.maxPacketSize());
        this.outTransferSize = packetMultiple(out.maxPacketSize());
        this.outBuffer = ByteBuffer.allocateDirect(outTransferSize);
        for (int i = 0; i < IN_TRANSFERS; i++) {
            slots.add(new InSlot(ByteBuffer.allocateDirect(inTransferSize)));
        }
    }

    /** The largest multiple of {@code maxPacket} up to {@link #TRANSFER_BYTES}, at least one packet. */
    static int packetMultiple(int maxPacket) {
        return Math.max(maxPacket, TRANSFER_BYTES / maxPacket * maxPacket);
    }

    /** Bytes one IN transfer asks for. */
    public int inTransferSize() {
        return inTransferSize;
    }

    /** Bytes one OUT transfer carries at most. */
    public int outTransferSize() {
        return outTransferSize;
    }

    /** The device this link is open on. */
    public UsbDeviceRef device() {
        return device;
    }

    /** IN transfers submitted and not yet completed; for tests. */
    public int inFlight() {
        synchronized (lock) {
            return inFlight;
        }
    }

    /** Adds {@code r} to what runs once the link is closed (after the handle is), for bookkeeping. */
    void onClose(Runnable r) {
        synchronized (lock) {
            Runnable before = onClose;
            onClose = () -> {
                before.run();
                r.run();
            };
        }
    }

    /** Waits until {@link #close()}, called by anyone, has finished; whether it has. */
    boolean awaitClosed(Duration max) throws InterruptedException {
        return closed.await(max.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Removes {@code bytes} bytes at the start of every IN packet (of the endpoint's max packet
     * size) before the data is read, as FTDI chips need ({@link FtdiProfile#strip}). Before
     * {@link #start()}.
     */
    void stripInPacketHeaders(int bytes) {
        this.inPacketHeader = bytes;
    }

    /** Puts every IN transfer in flight. On failure the caller closes the link. */
    public void start() throws ManComException {
        for (InSlot s : slots) {
            submitIn(s);
        }
    }

    // ---- reading ----

    private void submitIn(InSlot slot) throws ManComException {
        synchronized (lock) {
            if (closing) {
                return;
            }
            outstanding++;
            inFlight++;
            slot.epoch = inHaltClears;
        }
        slot.buffer.clear();
        try {
            slot.transfer = handle.submit(in.address(), slot.buffer, 0, (status, n) -> inDone(slot, status, n));
        } catch (UsbBackendException e) {
            synchronized (lock) {
                outstanding--;
                inFlight--;
                lock.notifyAll();
            }
            throw transferFailure("submitting an IN transfer", e);
        }
        if (closing) {
            slot.transfer.cancel(); // close() may have looked before the transfer was set
        }
    }

    private void inDone(InSlot slot, TransferStatus status, int n) {
        synchronized (lock) {
            outstanding--;
            inFlight--;
            slot.status = status;
            slot.length = n;
            slot.readPos = 0;
            completed.add(slot);
            lock.notifyAll();
        }
        if (status == TransferStatus.NO_DEVICE) {
            deviceGone(); // tell the channel now, even if nobody reads
        }
    }

    @Override
    public int read(byte[] dst, int off, int len) throws IOException {
        if (current == null) {
            synchronized (lock) {
                long deadline = System.nanoTime() + READ_WAIT_MILLIS * 1_000_000;
                while (completed.isEmpty() && !closing && failure == null) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        return 0;
                    }
                    try {
                        lock.wait(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("USB read interrupted");
                    }
                }
                if (closing) {
                    return -1;
                }
                if (completed.isEmpty()) {
                    throw failure;
                }
                current = completed.poll();
            }
            if (inPacketHeader > 0 && (current.status == TransferStatus.COMPLETED || current.status == TransferStatus.TIMED_OUT)) {
                current.length = FtdiProfile.strip(current.buffer, current.length, in.maxPacketSize());
            }
        }
        InSlot slot = current;
        switch (slot.status) {
            case COMPLETED, TIMED_OUT -> {
                int available = slot.length - slot.readPos;
                if (available <= 0) {
                    // A zero-length packet, or a timeout with nothing: nothing to hand out.
                    current = null;
                    submitIn(slot);
                    return 0;
                }
                int n = Math.min(len, available);
                slot.buffer.get(slot.readPos, dst, off, n);
                slot.readPos += n;
                inStalls = 0;
                if (slot.readPos == slot.length) {
                    current = null;
                    submitIn(slot);
                }
                return n;
            }
            case STALL -> {
                current = null;
                if (slot.epoch == inHaltClears) {
                    // The first stall since the last clear; the other transfers that were in flight
                    // stalled on the same halt and are only resubmitted.
                    if (++inStalls > MAX_STALLS) {
                        throw fail(new ManComException(Reason.LINK_FAILED, String.format(Locale.ROOT,
                                "IN endpoint 0x%02x of USB device %s stalled %d times in a row; the device reports an"
                                        + " error it does not recover from (reset or replug it)", in.address(),
                                device.describe(), inStalls)));
                    }
                    log.warn("{}: IN endpoint 0x{} stalled; clearing the halt", remote, Integer.toHexString(in.address()));
                    clearHalt(in);
                    synchronized (lock) {
                        inHaltClears++;
                    }
                }
                submitIn(slot);
                return 0;
            }
            case CANCELLED -> {
                current = null;
                if (closing) {
                    return -1;
                }
                throw fail(new ManComException(Reason.LINK_FAILED, "an IN transfer of USB device " + device.describe()
                        + " was cancelled"));
            }
            case NO_DEVICE -> {
                current = null;
                throw deviceGone();
            }
            default -> {
                current = null;
                throw fail(new ManComException(Reason.LINK_FAILED, String.format(Locale.ROOT,
                        "IN transfer on endpoint 0x%02x of USB device %s failed: %s%s", in.address(), device.describe(),
                        slot.status, slot.status == TransferStatus.OVERFLOW
                                ? " (the device sent more than a whole number of packets asked for)" : "")));
            }
        }
    }

    // ---- writing ----

    @Override
    public void write(ByteBuffer src) throws IOException {
        int total = src.remaining();
        if (total == 0) {
            return;
        }
        while (src.hasRemaining()) {
            int n = Math.min(src.remaining(), outTransferSize);
            outBuffer.clear();
            ByteBuffer chunk = src.slice(src.position(), n);
            outBuffer.put(chunk).flip();
            sendAll(outBuffer);
            src.position(src.position() + n);
        }
        if (total % out.maxPacketSize() == 0) {
            outBuffer.clear().limit(0);
            sendAll(outBuffer); // the zero-length packet that ends the transfer
        }
    }

    /** Sends the buffer's remaining bytes, retrying after cleared stalls. */
    private void sendAll(ByteBuffer buf) throws IOException {
        boolean zlp = !buf.hasRemaining();
        do {
            int n = buf.remaining();
            int sent = sendOnce(buf);
            if (sent < 0) {
                continue; // stalled and cleared: send what is left again
            }
            if (sent < n) {
                throw fail(new ManComException(Reason.LINK_FAILED, String.format(Locale.ROOT,
                        "USB device %s took %d of %d bytes on OUT endpoint 0x%02x", device.describe(), sent, n, out.address())));
            }
            buf.position(buf.limit());
            outStalls = 0;
            return;
        } while (zlp || buf.hasRemaining());
    }

    /** One OUT transfer of {@code buf}'s remaining bytes; the bytes sent, or -1 after a cleared stall. */
    private int sendOnce(ByteBuffer buf) throws IOException {
        OutResult result = new OutResult();
        synchronized (lock) {
            if (closing) {
                throw closed();
            }
            if (failure != null) {
                throw failure;
            }
            outstanding++;
        }
        try {
            outTransfer = handle.submit(out.address(), buf, outTimeoutMillis, (status, n) -> {
                synchronized (lock) {
                    outstanding--;
                    result.status = status;
                    result.actual = n;
                    lock.notifyAll();
                }
            });
        } catch (UsbBackendException e) {
            synchronized (lock) {
                outstanding--;
                lock.notifyAll();
            }
            throw transferFailure("submitting an OUT transfer", e);
        }
        if (closing) {
            outTransfer.cancel();
        }
        synchronized (lock) {
            while (result.status == null) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    outTransfer.cancel();
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("USB write interrupted");
                }
            }
        }
        outTransfer = null;
        switch (result.status) {
            case COMPLETED -> {
                return result.actual;
            }
            case TIMED_OUT -> throw fail(new ManComException(Reason.TIMEOUT, String.format(Locale.ROOT,
                    "USB device %s did not take data on OUT endpoint 0x%02x within timeout=%d ms (%d of %d bytes went);"
                            + " raise the endpoint's timeout, or 0 to wait for ever", device.describe(), out.address(),
                    outTimeoutMillis, result.actual, buf.remaining())));
            case STALL -> {
                if (++outStalls > MAX_STALLS) {
                    throw fail(new ManComException(Reason.LINK_FAILED, String.format(Locale.ROOT,
                            "OUT endpoint 0x%02x of USB device %s stalled %d times in a row; the device refuses data"
                                    + " (reset or replug it)", out.address(), device.describe(), outStalls)));
                }
                log.warn("{}: OUT endpoint 0x{} stalled; clearing the halt and sending again", remote,
                        Integer.toHexString(out.address()));
                buf.position(buf.position() + result.actual);
                clearHalt(out);
                return -1;
            }
            case CANCELLED -> throw closing ? closed() : fail(new ManComException(Reason.LINK_FAILED,
                    "an OUT transfer of USB device " + device.describe() + " was cancelled"));
            case NO_DEVICE -> throw deviceGone();
            default -> throw fail(new ManComException(Reason.LINK_FAILED, String.format(Locale.ROOT,
                    "OUT transfer on endpoint 0x%02x of USB device %s failed: %s", out.address(), device.describe(),
                    result.status)));
        }
    }

    private static final class OutResult {
        TransferStatus status;
        int actual;
    }

    private void clearHalt(UsbEndpoint ep) throws ManComException {
        try {
            handle.clearHalt(ep.address());
        } catch (UsbBackendException e) {
            throw fail(e.kind() == UsbBackendException.Kind.NO_DEVICE ? errors.gone(device)
                    : new ManComException(Reason.LINK_FAILED, String.format(Locale.ROOT,
                    "endpoint 0x%02x of USB device %s stalled and the halt could not be cleared: %s: %s", ep.address(),
                    device.describe(), e.code(), e.getMessage()), e));
        }
    }

    // ---- failures ----

    private ManComException transferFailure(String what, UsbBackendException e) {
        if (e.kind() == UsbBackendException.Kind.NO_DEVICE) {
            return deviceGone();
        }
        return fail(errors.other(what, device, e));
    }

    private ManComException closed() {
        return new ManComException(Reason.CLOSED, "USB device " + device.describe() + " was closed");
    }

    /** Records the link's failure (the first one wins) and returns it. */
    private ManComException fail(ManComException e) {
        synchronized (lock) {
            if (failure == null) {
                failure = e;
            }
            lock.notifyAll();
            return failure;
        }
    }

    /**
     * The device is gone: fails the link with {@link UsbErrors#gone} and tells the failure
     * listener once. Any thread; does not block.
     */
    ManComException deviceGone() {
        ManComException e = fail(errors.gone(device));
        report(e);
        return e;
    }

    private void report(ManComException e) {
        Consumer<? super IOException> l;
        synchronized (lock) {
            l = failureListener;
        }
        if (l != null && !closing && failureReported.compareAndSet(false, true)) {
            l.accept(e);
        }
    }

    @Override
    public void onFailure(Consumer<? super IOException> listener) {
        ManComException pending;
        synchronized (lock) {
            failureListener = listener;
            pending = failure;
        }
        if (pending != null) {
            report(pending);
        }
    }

    // ---- closing ----

    @Override
    public void close() {
        Runnable after;
        synchronized (lock) {
            if (closing) {
                return;
            }
            closing = true;
            after = onClose;
            lock.notifyAll();
        }
        for (InSlot s : slots) {
            UsbTransfer t = s.transfer;
            if (t != null) {
                t.cancel();
            }
        }
        UsbTransfer o = outTransfer;
        if (o != null) {
            o.cancel();
        }
        boolean drained = awaitTransfers();
        if (drained) {
            handle.release(iface);
            handle.close();
        } else {
            // The backend may still write into the transfers' buffers: closing the device under
            // them is worse than leaking one handle.
            log.warn("{}: USB transfers did not finish after being cancelled; not closing the device handle", remote);
        }
        try {
            after.run();
        } finally {
            closed.countDown();
        }
    }

    private boolean awaitTransfers() {
        long deadline = System.nanoTime() + CANCEL_WAIT_MILLIS * 1_000_000;
        synchronized (lock) {
            while (outstanding > 0) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    return false;
                }
                try {
                    lock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    @Override
    public EndPoint local() {
        return local;
    }

    @Override
    public EndPoint remote() {
        return remote;
    }

    /** One IN transfer and its buffer. Fields other than {@code transfer} follow the lock/reader hand-off. */
    private static final class InSlot {
        final ByteBuffer buffer;
        volatile UsbTransfer transfer;
        TransferStatus status;
        int length;
        int readPos;
        int epoch;

        InSlot(ByteBuffer buffer) {
            this.buffer = buffer;
        }
    }
}
