package io.mancom.usb;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One USB device attached to this machine, as {@link UsbDevices#list()} reports it. Immutable.
 *
 * @param bus          the bus number
 * @param address      the device's address on its bus (changes when the device is replugged)
 * @param vendorId     the vendor id
 * @param productId    the product id
 * @param manufacturer the manufacturer string, where the device has one and it could be read
 * @param product      the product string, likewise
 * @param serialNumber the serial-number string, likewise (what {@code serial=} matches)
 * @param unreadable   why the strings could not be read (for example no permission), if so
 */
public record UsbDeviceInfo(int bus, int address, int vendorId, int productId, Optional<String> manufacturer,
                            Optional<String> product, Optional<String> serialNumber, Optional<String> unreadable) {

    public UsbDeviceInfo {
        Objects.requireNonNull(manufacturer, "manufacturer");
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(serialNumber, "serialNumber");
        Objects.requireNonNull(unreadable, "unreadable");
    }

    /** {@code VID:PID} in four hex digits each, as in {@code usb://} endpoints and lsusb. */
    public String usbId() {
        return String.format(Locale.ROOT, "%04x:%04x", vendorId, productId);
    }

    /** The endpoint URI that selects this device: {@code usb://VID:PID}, with its serial if it has one. */
    public String endpointUri() {
        return "usb://" + usbId() + serialNumber.map(s -> "?serial=" + java.net.URLEncoder.encode(s,
                java.nio.charset.StandardCharsets.UTF_8)).orElse("");
    }

    /** One line: {@code bus 1 address 4: 16c0:05dc (Van Ooijen Technische Informatica, USBasp, serial 1234)}. */
    public String describe() {
        StringBuilder sb = new StringBuilder("bus ").append(bus).append(" address ").append(address).append(": ").append(usbId());
        StringBuilder extra = new StringBuilder();
        manufacturer.ifPresent(m -> extra.append(m));
        product.ifPresent(p -> extra.append(extra.length() > 0 ? ", " : "").append(p));
        serialNumber.ifPresent(s -> extra.append(extra.length() > 0 ? ", " : "").append("serial ").append(s));
        if (extra.length() == 0) {
            unreadable.ifPresent(u -> extra.append("names unreadable: ").append(u));
        }
        return extra.length() == 0 ? sb.toString() : sb.append(" (").append(extra).append(')').toString();
    }
}
