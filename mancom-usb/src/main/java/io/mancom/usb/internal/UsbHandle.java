package io.mancom.usb.internal;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * An open USB device: descriptors, interface claiming and asynchronous bulk transfers.
 *
 * <h2>Lifecycle</h2>
 * Open from {@link UsbBackend#open} until {@link #close()}. Close only after every transfer's
 * callback has run (cancel them and wait): the backend may still write into a transfer's buffer
 * until then. Interfaces claimed and not released are released by {@code close()}.
 *
 * <h2>Threading</h2>
 * Thread-safe. {@link #submit} and {@link UsbTransfer#cancel()} do not block and may be called on
 * any thread, including the event thread from a transfer callback. {@link #claim},
 * {@link #release}, {@link #clearHalt}, {@link #strings()} and {@link #close()} block (control
 * transfers, driver calls) and must not be called from a callback.
 *
 * <h2>Buffer ownership</h2>
 * A transfer's buffer must be direct. The transfer covers its bytes from position to limit (the
 * implementation takes care of libraries that use the capacity instead); IN data is written there.
 * The backend does not move the buffer's position or limit, and uses the buffer until the
 * transfer's callback has run; the caller must not touch it meanwhile.
 */
public interface UsbHandle extends AutoCloseable {

    /** The device this handle is open on. */
    UsbDeviceRef device();

    /** The device's strings (reads them from the device). */
    DeviceStrings strings();

    /** The interface numbers of the active configuration. */
    List<Integer> interfaces() throws UsbBackendException;

    /**
     * The endpoints of {@code iface} (alternate setting 0) of the active configuration.
     *
     * @throws UsbBackendException {@code NOT_FOUND} if there is no such interface
     */
    List<UsbEndpoint> endpoints(int iface) throws UsbBackendException;

    /**
     * Claims {@code iface} for this program. A kernel driver bound to it is detached first where
     * the platform allows it, and reattached by {@link #release}.
     *
     * @throws UsbBackendException {@code BUSY} if another program or a driver that cannot be
     *                             detached holds it; {@code NOT_FOUND}; {@code NO_DEVICE}
     */
    void claim(int iface) throws UsbBackendException;

    /** Releases {@code iface} and reattaches the kernel driver {@link #claim} detached. Never throws. */
    void release(int iface);

    /**
     * Submits an asynchronous bulk transfer on {@code endpoint}: IN if bit 7 of the address is set
     * (reads up to {@code buffer.remaining()} bytes), OUT otherwise (sends the remaining bytes; a
     * buffer with none sends a zero-length packet).
     *
     * @param timeoutMillis 0 for none
     * @throws UsbBackendException if the transfer cannot be submitted (then the callback never runs)
     */
    UsbTransfer submit(int endpoint, ByteBuffer buffer, long timeoutMillis, TransferCallback callback)
            throws UsbBackendException;

    /**
     * A synchronous control transfer on endpoint 0 (blocks until it is done). The direction is bit 7
     * of {@code requestType}: OUT sends {@code data}'s remaining bytes, IN reads up to that many
     * into it (at its position; the position and limit do not move). {@code data} must be direct;
     * it may be empty.
     *
     * @param timeoutMillis 0 for none
     * @return the bytes transferred
     * @throws UsbBackendException {@code NO_DEVICE}; {@code OTHER} with {@code LIBUSB_ERROR_PIPE}
     *                             when the device does not support the request
     */
    int control(int requestType, int request, int value, int index, ByteBuffer data, long timeoutMillis)
            throws UsbBackendException;

    /** Clears a halt (stall) on {@code endpoint}, a control transfer to the device. */
    void clearHalt(int endpoint) throws UsbBackendException;

    /** Closes the device. Idempotent; never throws. */
    @Override
    void close();
}
