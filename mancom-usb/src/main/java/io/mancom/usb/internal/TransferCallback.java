package io.mancom.usb.internal;

/**
 * Told when one asynchronous transfer has ended.
 *
 * <p>Called once per submitted transfer, on the backend's event thread (for libusb, the one thread
 * that handles libusb events); it must be quick and must not block or call blocking backend
 * methods (it would stall every other transfer and hotplug event of the backend).
 */
@FunctionalInterface
public interface TransferCallback {

    /**
     * @param status       how the transfer ended
     * @param actualLength bytes transferred, also for a failed or cancelled transfer
     */
    void done(TransferStatus status, int actualLength);
}
