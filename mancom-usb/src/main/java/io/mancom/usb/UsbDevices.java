package io.mancom.usb;

import io.mancom.ManComException;
import io.mancom.usb.internal.DeviceStrings;
import io.mancom.usb.internal.LibUsbBackend;
import io.mancom.usb.internal.UsbBackend;
import io.mancom.usb.internal.UsbBackendException;
import io.mancom.usb.internal.UsbDeviceRef;
import io.mancom.usb.internal.UsbErrors;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The USB devices of this machine, for {@code mancom ports} and for people choosing an endpoint.
 *
 * <p>Thread-safe. Each call starts a libusb context of its own, enumerates, reads each device's
 * strings where this user may open the device (briefly; it does not claim anything), and stops the
 * context again: a few milliseconds, plus a few per device.
 */
public final class UsbDevices {
    private UsbDevices() {
    }

    /**
     * The devices attached now, sorted by bus and address.
     *
     * @throws ManComException if libusb cannot start here (reason {@code IO}; the message says why,
     *                         for example that there is no {@code /dev/bus/usb} in a container)
     */
    public static List<UsbDeviceInfo> list() throws ManComException {
        UsbBackend backend;
        try {
            backend = LibUsbBackend.start();
        } catch (UsbBackendException e) {
            throw UsbErrors.forThisMachine().cannotStart("libusb", e);
        }
        try {
            return list(backend);
        } finally {
            backend.close();
        }
    }

    /** The devices of {@code backend}, with their strings; for tests and for {@link #list()}. */
    public static List<UsbDeviceInfo> list(UsbBackend backend) throws ManComException {
        List<UsbDeviceRef> refs;
        try {
            refs = backend.devices();
        } catch (UsbBackendException e) {
            throw new ManComException(ManComException.Reason.IO, "cannot list USB devices (" + backend.describe() + "): "
                    + e.code() + ": " + e.getMessage(), e);
        }
        List<UsbDeviceInfo> out = new ArrayList<>();
        for (UsbDeviceRef d : refs) {
            DeviceStrings s = backend.strings(d);
            out.add(new UsbDeviceInfo(d.bus(), d.address(), d.vendorId(), d.productId(), s.manufacturer(), s.product(),
                    s.serialNumber(), s.unreadable()));
        }
        out.sort(Comparator.comparingInt(UsbDeviceInfo::bus).thenComparingInt(UsbDeviceInfo::address));
        return List.copyOf(out);
    }
}
