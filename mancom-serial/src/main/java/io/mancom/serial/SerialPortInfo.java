package io.mancom.serial;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One serial port the operating system offers, as {@link SerialPorts#list()} reports it.
 * Immutable.
 *
 * @param path         the device path to put in an endpoint, for example {@code /dev/ttyUSB0}
 * @param description  what the driver calls the port, for example {@code FT232R USB UART} or
 *                     {@code Physical Port S0}; never null, may be empty
 * @param vendorId     the USB vendor id, for USB adapters
 * @param productId    the USB product id, for USB adapters
 * @param serialNumber the USB serial number, where the adapter has one
 */
public record SerialPortInfo(String path, String description, OptionalInt vendorId, OptionalInt productId,
                             Optional<String> serialNumber) {

    public SerialPortInfo {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(vendorId, "vendorId");
        Objects.requireNonNull(productId, "productId");
        Objects.requireNonNull(serialNumber, "serialNumber");
    }

    /** {@code VID:PID} in four hex digits each, as in {@code usb://} endpoints and lsusb, if known. */
    public Optional<String> usbId() {
        if (vendorId.isEmpty() || productId.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "%04x:%04x", vendorId.getAsInt(), productId.getAsInt()));
    }

    /** One line for messages: {@code /dev/ttyUSB0 (FT232R USB UART, USB 0403:6001)}. */
    public String describe() {
        StringBuilder b = new StringBuilder(path);
        String extra = description.isBlank() ? "" : description;
        if (usbId().isPresent()) {
            extra += (extra.isEmpty() ? "" : ", ") + "USB " + usbId().get();
        }
        return extra.isEmpty() ? b.toString() : b.append(" (").append(extra).append(')').toString();
    }
}
