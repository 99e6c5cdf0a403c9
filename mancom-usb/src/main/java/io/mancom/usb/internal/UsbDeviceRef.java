package io.mancom.usb.internal;

import java.util.Locale;

/**
 * A USB device as enumeration finds it, without opening it: where it is (bus and address) and
 * what it is (vendor and product id). Immutable.
 *
 * <p>Bus and address identify one plugging of a device: the address changes when the device is
 * replugged, so a device that left and came back is a new ref.
 *
 * @param bus       the bus number, 1 to 255
 * @param address   the device address on its bus, 1 to 127
 * @param vendorId  the vendor id, 0 to 0xffff
 * @param productId the product id, 0 to 0xffff
 */
public record UsbDeviceRef(int bus, int address, int vendorId, int productId) {

    /** {@code VID:PID} in four lower-case hex digits each, as in {@code usb://} endpoints and lsusb. */
    public String usbId() {
        return String.format(Locale.ROOT, "%04x:%04x", vendorId, productId);
    }

    /** One line for messages: {@code 16c0:05dc on bus 1 address 4}. */
    public String describe() {
        return usbId() + " on bus " + bus + " address " + address;
    }

    /** The usbfs node of the device on Linux, which the udev rules and permissions apply to. */
    public String devNode() {
        return String.format(Locale.ROOT, "/dev/bus/usb/%03d/%03d", bus, address);
    }
}
