package io.mancom;

import java.util.Locale;

/**
 * The kind of link an {@link EndPoint} names. Each type has one URI scheme, and the runtime
 * finds the transport for a scheme with {@link java.util.ServiceLoader} (see
 * {@link io.mancom.spi.TransportProvider}).
 */
public enum TransportType {
    /** A TCP socket: {@code tcp://host:port}. */
    TCP("tcp"),
    /** A serial line: {@code serial:///dev/ttyUSB0?baud=115200}. */
    SERIAL("serial"),
    /** A pair of USB bulk endpoints: {@code usb://16c0:05dc?interface=0}. */
    USB("usb");

    private final String scheme;

    TransportType(String scheme) {
        this.scheme = scheme;
    }

    /** The URI scheme, lower case, without {@code ://}. */
    public String scheme() {
        return scheme;
    }

    /**
     * The type for a URI scheme (case-insensitive).
     *
     * @throws IllegalArgumentException naming the scheme and the known ones
     */
    public static TransportType forScheme(String scheme) {
        String s = scheme.toLowerCase(Locale.ROOT);
        for (TransportType t : values()) {
            if (t.scheme.equals(s)) {
                return t;
            }
        }
        throw new IllegalArgumentException(
                "unknown endpoint scheme '" + scheme + "': expected one of tcp, serial, usb");
    }
}
