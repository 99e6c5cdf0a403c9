package io.mancom.usb.internal;

/** How an asynchronous transfer ended; the libusb transfer statuses. */
public enum TransferStatus {
    /** Done; for IN, possibly short (the device ended the transfer with a short packet). */
    COMPLETED,
    /** The transfer's timeout passed; some bytes may have been transferred. */
    TIMED_OUT,
    /** The endpoint is halted (the device signals an error); clear the halt to go on. */
    STALL,
    /** The device is gone. */
    NO_DEVICE,
    /** Cancelled by the host. */
    CANCELLED,
    /** The device sent more than the transfer asked for. */
    OVERFLOW,
    /** Any other failure. */
    ERROR
}
