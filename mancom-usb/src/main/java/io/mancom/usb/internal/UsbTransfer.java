package io.mancom.usb.internal;

/** A submitted transfer. Thread-safe. */
public interface UsbTransfer {

    /**
     * Asks the backend to cancel the transfer. Returns at once; the transfer's callback still runs
     * (with {@link TransferStatus#CANCELLED}, or with another status if it ended first). Idempotent.
     */
    void cancel();
}
