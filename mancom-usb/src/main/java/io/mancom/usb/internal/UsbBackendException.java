package io.mancom.usb.internal;

import java.util.Objects;

/**
 * A failure of the USB backend, in the backend's terms (for libusb, an error code such as
 * {@code LIBUSB_ERROR_ACCESS}). The transport turns it into a {@link io.mancom.ManComException}
 * whose message says what to do ({@link UsbErrors}); backends only classify.
 */
public final class UsbBackendException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What kind of failure it is, as far as the transport cares. */
    public enum Kind {
        /** The backend cannot start at all (no native library, no USB subsystem). */
        INIT_FAILED,
        /** The operating system denied access to the device. */
        ACCESS,
        /** Another program or a kernel driver holds the interface. */
        BUSY,
        /** The device is gone. */
        NO_DEVICE,
        /** The interface or endpoint does not exist. */
        NOT_FOUND,
        /** The platform cannot do this (for example detaching a kernel driver). */
        NOT_SUPPORTED,
        /** Anything else. */
        OTHER
    }

    private final Kind kind;
    private final String code;

    /**
     * @param code    the backend's name for the error, for example {@code LIBUSB_ERROR_BUSY}
     * @param message what failed, in the backend's words
     */
    public UsbBackendException(Kind kind, String code, String message) {
        this(kind, code, message, null);
    }

    public UsbBackendException(Kind kind, String code, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind, "kind");
        this.code = Objects.requireNonNull(code, "code");
    }

    public Kind kind() {
        return kind;
    }

    /** The backend's error name, for example {@code LIBUSB_ERROR_ACCESS}. */
    public String code() {
        return code;
    }
}
