package io.mancom.usb.internal;

import java.util.Locale;

/**
 * One endpoint of an interface, from the device's configuration descriptor. Immutable.
 *
 * @param address       the endpoint address; bit 7 set for IN (device to host)
 * @param type          the transfer type
 * @param maxPacketSize the largest packet the endpoint sends or takes (wMaxPacketSize), at least 1
 */
public record UsbEndpoint(int address, Type type, int maxPacketSize) {

    /** Transfer types, as in bmAttributes bits 0..1. */
    public enum Type { CONTROL, ISOCHRONOUS, BULK, INTERRUPT }

    public UsbEndpoint {
        if (maxPacketSize < 1) {
            throw new IllegalArgumentException("maxPacketSize < 1: " + maxPacketSize);
        }
    }

    /** Whether data flows from the device to the host. */
    public boolean isIn() {
        return (address & 0x80) != 0;
    }

    /** For messages: {@code 0x81 bulk IN (512 bytes)}. */
    public String describe() {
        return String.format(Locale.ROOT, "0x%02x %s %s (%d bytes)", address, type.name().toLowerCase(Locale.ROOT),
                isIn() ? "IN" : "OUT", maxPacketSize);
    }
}
