package io.mancom;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * A USB device and the interface and bulk endpoints a link uses on it.
 *
 * <p>URI form: {@code usb://VID:PID?serial=ABC&bus=1&address=4&interface=0&in=0x81&out=0x02&timeout=1s&profile=ftdi}.
 * Vendor and product ids are four hex digits. Every option may be left out: the first device
 * that matches, interface 0, and its first bulk IN/OUT pair. A {@code profile} adapts the link to
 * a device family (for example {@code ftdi}); options the profile reads (such as {@code baud})
 * are kept in {@link #options()}.
 *
 * @param vendorId        the USB vendor id, 0 to 0xffff
 * @param productId       the USB product id, 0 to 0xffff
 * @param serial          the device's serial-number string, if the device must match it
 * @param bus             the bus number, if the device must be on it
 * @param deviceAddress   the device address on its bus, if the device must have it
 * @param interfaceNumber the interface to claim
 * @param inEndpoint      the bulk IN endpoint address, or empty for the interface's first
 * @param outEndpoint     the bulk OUT endpoint address, or empty for the interface's first
 * @param timeout         the timeout of one transfer; {@link Duration#ZERO} means none
 * @param profile         the device profile, if any
 * @param options         profile options, by name; never null
 */
public record UsbAddress(int vendorId, int productId, Optional<String> serial, OptionalInt bus,
                         OptionalInt deviceAddress, int interfaceNumber, OptionalInt inEndpoint,
                         OptionalInt outEndpoint, Duration timeout, Optional<String> profile,
                         Map<String, String> options) implements Address {

    public UsbAddress {
        checkId("vendor id", vendorId);
        checkId("product id", productId);
        Objects.requireNonNull(serial, "serial");
        Objects.requireNonNull(bus, "bus");
        Objects.requireNonNull(deviceAddress, "deviceAddress");
        Objects.requireNonNull(inEndpoint, "inEndpoint");
        Objects.requireNonNull(outEndpoint, "outEndpoint");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(profile, "profile");
        if (interfaceNumber < 0 || interfaceNumber > 255) {
            throw new IllegalArgumentException("interface out of range 0..255: " + interfaceNumber);
        }
        inEndpoint.ifPresent(e -> {
            if ((e & 0x80) == 0 || e > 0xff) {
                throw new IllegalArgumentException("in endpoint must be an IN address 0x81..0x8f: 0x" + Integer.toHexString(e));
            }
        });
        outEndpoint.ifPresent(e -> {
            if ((e & 0x80) != 0 || e < 1 || e > 0x0f) {
                throw new IllegalArgumentException("out endpoint must be an OUT address 0x01..0x0f: 0x" + Integer.toHexString(e));
            }
        });
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        if (!options.isEmpty() && profile.isEmpty()) {
            throw new IllegalArgumentException("options " + options.keySet() + " need a profile (for example profile=ftdi)");
        }
        options = Map.copyOf(options);
    }

    /** The device {@code vendorId:productId} on interface 0 with its first bulk endpoint pair. */
    public static UsbAddress of(int vendorId, int productId) {
        return new UsbAddress(vendorId, productId, Optional.empty(), OptionalInt.empty(), OptionalInt.empty(), 0,
                OptionalInt.empty(), OptionalInt.empty(), Duration.ZERO, Optional.empty(), Map.of());
    }

    private static void checkId(String what, int id) {
        if (id < 0 || id > 0xffff) {
            throw new IllegalArgumentException(what + " out of range 0000..ffff: " + Integer.toHexString(id));
        }
    }

    @Override
    public TransportType type() {
        return TransportType.USB;
    }

    @Override
    public String toUri() {
        StringBuilder sb = new StringBuilder("usb://").append(String.format("%04x:%04x", vendorId, productId));
        sb.append("?interface=").append(interfaceNumber);
        serial.ifPresent(s -> sb.append("&serial=").append(UriOptions.encode(s)));
        bus.ifPresent(b -> sb.append("&bus=").append(b));
        deviceAddress.ifPresent(a -> sb.append("&address=").append(a));
        inEndpoint.ifPresent(e -> sb.append("&in=0x").append(String.format("%02x", e)));
        outEndpoint.ifPresent(e -> sb.append("&out=0x").append(String.format("%02x", e)));
        if (!timeout.isZero()) {
            sb.append("&timeout=").append(UriOptions.formatDuration(timeout));
        }
        profile.ifPresent(p -> sb.append("&profile=").append(UriOptions.encode(p)));
        new TreeMap<>(options).forEach((k, v) -> sb.append('&').append(UriOptions.encode(k)).append('=')
                .append(UriOptions.encode(v)));
        return sb.toString();
    }

    @Override
    public String toString() {
        return toUri();
    }
}
