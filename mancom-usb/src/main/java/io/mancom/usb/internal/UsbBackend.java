package io.mancom.usb.internal;

import java.util.List;

/**
 * The seam between the USB transport and a USB library: the few things the transport needs from
 * the operating system's USB stack. {@link LibUsbBackend} implements it with usb4java's low-level
 * libusb API; the tests implement it with an in-memory bulk device. Everything above it (matching,
 * claiming, transfer scheduling, hotplug, errors) is the transport's own code and is tested
 * against the in-memory device.
 *
 * <h2>Lifecycle</h2>
 * A backend is started by its {@link UsbBackendFactory} (for libusb: a libusb context and its
 * event thread) and stopped by {@link #close()}, after every handle it opened was closed. Handles
 * and hotplug registrations do not outlive it.
 *
 * <h2>Threading</h2>
 * Thread-safe. {@link #devices()}, {@link #open} and {@link #strings} may block briefly (they read
 * the system's device tables and, for strings, talk to the device) and are called on blocking
 * threads. Transfer callbacks and hotplug events arrive on the backend's event thread, one at a
 * time, in order.
 *
 * <h2>Errors</h2>
 * Failures are {@link UsbBackendException}s that classify the error; the transport words the
 * message for the user ({@link UsbErrors}).
 */
public interface UsbBackend extends AutoCloseable {

    /** A short description for messages, for example {@code libusb 1.0.22 (usb4java)}. */
    String describe();

    /** The devices attached now, in the backend's order. Opens nothing. */
    List<UsbDeviceRef> devices() throws UsbBackendException;

    /**
     * The device's manufacturer, product and serial-number strings, best effort: opens the device
     * briefly where that is allowed; strings that cannot be read are empty and
     * {@link DeviceStrings#unreadable()} says why.
     */
    DeviceStrings strings(UsbDeviceRef device);

    /**
     * Opens the device (does not claim an interface).
     *
     * @throws UsbBackendException {@code NO_DEVICE} if it is gone, {@code ACCESS} if the operating
     *                             system denies it
     */
    UsbHandle open(UsbDeviceRef device) throws UsbBackendException;

    /** Whether {@link #watch} works here (libusb: {@code LIBUSB_CAP_HAS_HOTPLUG}). */
    boolean hotplugSupported();

    /**
     * Reports arrivals and departures of every device from now on, until the returned
     * registration is closed. Devices already attached are not reported.
     *
     * @throws UnsupportedOperationException if {@link #hotplugSupported()} is false
     */
    AutoCloseable watch(HotplugListener listener) throws UsbBackendException;

    /** Stops the backend. Idempotent; never throws. */
    @Override
    void close();
}
