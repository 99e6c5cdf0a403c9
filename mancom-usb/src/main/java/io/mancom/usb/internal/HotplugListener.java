package io.mancom.usb.internal;

/**
 * Told when a USB device arrives or leaves.
 *
 * <p>Called on the backend's event thread (libusb hotplug) or on the poller's thread; must be quick
 * and must not block or call the backend (libusb forbids opening a device inside its hotplug
 * callback): hand real work to another thread.
 */
public interface HotplugListener {

    /** {@code device} was plugged in (or, for a poller, was seen for the first time). */
    void arrived(UsbDeviceRef device);

    /** {@code device} was unplugged. */
    void left(UsbDeviceRef device);
}
