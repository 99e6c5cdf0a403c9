package io.mancom.usb.internal;

/** {@code mancom.usb.backend = libusb}: {@link LibUsbBackend}. Takes no argument. */
public final class LibUsbBackendFactory implements UsbBackendFactory {
    @Override
    public String name() {
        return "libusb";
    }

    @Override
    public UsbBackend start(String argument) throws UsbBackendException {
        return LibUsbBackend.start();
    }
}
