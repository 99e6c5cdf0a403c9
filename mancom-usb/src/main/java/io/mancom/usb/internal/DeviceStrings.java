package io.mancom.usb.internal;

import java.util.Objects;
import java.util.Optional;

/**
 * The string descriptors of a device, where they could be read. Immutable.
 *
 * @param manufacturer iManufacturer, if the device has one and it could be read
 * @param product      iProduct, likewise
 * @param serialNumber iSerialNumber, likewise
 * @param unreadable   why the strings could not be read (for example "permission denied"), if so
 */
public record DeviceStrings(Optional<String> manufacturer, Optional<String> product, Optional<String> serialNumber,
                            Optional<String> unreadable) {

    public static final DeviceStrings NONE = new DeviceStrings(Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty());

    public DeviceStrings {
        Objects.requireNonNull(manufacturer, "manufacturer");
        Objects.requireNonNull(product, "product");
        Objects.requireNonNull(serialNumber, "serialNumber");
        Objects.requireNonNull(unreadable, "unreadable");
    }

    /** No strings, because of {@code why}. */
    public static DeviceStrings unreadable(String why) {
        return new DeviceStrings(Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(why));
    }
}
