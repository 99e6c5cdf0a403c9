package io.mancom.usb.internal;

/**
 * Starts a {@link UsbBackend}; found with {@link java.util.ServiceLoader} by the name in
 * {@code mancom.usb.backend}. The transport ships {@code libusb}; tests add an in-memory one
 * through a {@code META-INF/services} file of their own. The constructor must be cheap and do no I/O.
 */
public interface UsbBackendFactory {

    /** The name selected in config, for example {@code libusb}. */
    String name();

    /**
     * Starts a backend.
     *
     * @param argument what followed {@code name:} in the config value, or the empty string
     * @throws UsbBackendException {@code INIT_FAILED} if the backend cannot start here
     */
    UsbBackend start(String argument) throws UsbBackendException;
}
