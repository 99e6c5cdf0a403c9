package io.mancom;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Where a connection is: a transport type plus an address in that transport's terms.
 *
 * <pre>
 *   tcp://127.0.0.1:7000
 *   tcp://[::1]:7000
 *   serial:///dev/ttyUSB0?baud=115200&amp;databits=8&amp;parity=none&amp;stopbits=1&amp;flow=rtscts&amp;timeout=0
 *   usb://16c0:05dc?serial=ABC123&amp;interface=0&amp;in=0x81&amp;out=0x02
 * </pre>
 *
 * <p>An EndPoint is an immutable value and safe to share between threads. {@link #parse(String)}
 * and {@link #toString()} are inverse: the printed form is canonical and lists every option.
 *
 * @param type    the transport type, always equal to {@code address.type()}
 * @param address the address
 */
public record EndPoint(TransportType type, Address address) {

    public EndPoint {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(address, "address");
        if (address.type() != type) {
            throw new IllegalArgumentException("address " + address.toUri() + " is not of type " + type);
        }
    }

    /** The endpoint of an address. */
    public static EndPoint of(Address address) {
        return new EndPoint(address.type(), address);
    }

    /** A TCP endpoint. */
    public static EndPoint tcp(String host, int port) {
        return of(new TcpAddress(host, port));
    }

    /**
     * Parses an endpoint URI.
     *
     * @throws IllegalArgumentException with a message that names the part of the URI that is
     *                                  wrong and what is allowed there
     */
    public static EndPoint parse(String uri) {
        Objects.requireNonNull(uri, "uri");
        int sep = uri.indexOf("://");
        if (sep <= 0) {
            throw new IllegalArgumentException("not an endpoint URI: '" + uri
                    + "' (expected tcp://host:port, serial:///dev/... or usb://VID:PID)");
        }
        TransportType type = TransportType.forScheme(uri.substring(0, sep));
        String rest = uri.substring(sep + 3);
        int q = rest.indexOf('?');
        String authorityAndPath = q < 0 ? rest : rest.substring(0, q);
        UriOptions options = new UriOptions(uri, q < 0 ? null : rest.substring(q + 1));
        switch (type) {
            case TCP: return of(parseTcp(uri, authorityAndPath, options));
            case SERIAL: return of(parseSerial(uri, authorityAndPath, options));
            case USB: return of(parseUsb(uri, authorityAndPath, options));
            default: throw new AssertionError(type);
        }
    }

    private static TcpAddress parseTcp(String uri, String hostPort, UriOptions options) {
        options.requireConsumed(Set.of());
        if (hostPort.endsWith("/")) {
            hostPort = hostPort.substring(0, hostPort.length() - 1);
        }
        String host;
        String port;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0 || close + 1 >= hostPort.length() || hostPort.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("bad IPv6 endpoint '" + uri + "': expected tcp://[ADDR]:PORT");
            }
            host = hostPort.substring(1, close);
            port = hostPort.substring(close + 2);
            // Only an IPv6 literal needs brackets, and only one prints in them again.
            if (host.indexOf(':') < 0 || host.indexOf('[') >= 0) {
                throw new IllegalArgumentException("bad IPv6 endpoint '" + uri + "': only an IPv6 address goes in "
                        + "brackets: tcp://[ADDR]:PORT");
            }
        } else {
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || hostPort.indexOf(':') != colon) {
                throw new IllegalArgumentException("tcp endpoint '" + uri + "' needs a host and a port: tcp://HOST:PORT");
            }
            host = hostPort.substring(0, colon);
            port = hostPort.substring(colon + 1);
        }
        if (host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
            throw new IllegalArgumentException("tcp endpoint '" + uri + "': a host name has no brackets; an IPv6 "
                    + "address is written tcp://[ADDR]:PORT");
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("tcp port '" + port + "' in '" + uri + "' is not a number 0..65535");
        }
        return new TcpAddress(host, p);
    }

    private static SerialAddress parseSerial(String uri, String path, UriOptions o) {
        if (path.isEmpty() || path.equals("/")) {
            throw new IllegalArgumentException("serial endpoint '" + uri + "' needs a device path: serial:///dev/ttyUSB0");
        }
        String device = UriOptions.decode(path.startsWith("/") ? path : "/" + path);
        SerialAddress a = new SerialAddress(device,
                o.takeInt("baud", SerialAddress.DEFAULT_BAUD, 1, Integer.MAX_VALUE),
                o.takeInt("databits", 8, 5, 8),
                o.takeEnum("parity", SerialAddress.Parity.NONE, SerialAddress.Parity.values(), SerialAddress.Parity::uriValue),
                o.takeEnum("stopbits", SerialAddress.StopBits.ONE, SerialAddress.StopBits.values(), SerialAddress.StopBits::uriValue),
                o.takeEnum("flow", SerialAddress.FlowControl.NONE, SerialAddress.FlowControl.values(), SerialAddress.FlowControl::uriValue),
                o.takeDuration("timeout", java.time.Duration.ZERO));
        o.requireConsumed(new java.util.TreeSet<>(Set.of("baud", "databits", "parity", "stopbits", "flow", "timeout")));
        return a;
    }

    private static UsbAddress parseUsb(String uri, String ids, UriOptions o) {
        if (ids.endsWith("/")) {
            ids = ids.substring(0, ids.length() - 1);
        }
        String[] vp = ids.split(":", -1);
        if (vp.length != 2 || !isHexId(vp[0]) || !isHexId(vp[1])) {
            throw new IllegalArgumentException("usb endpoint '" + uri
                    + "' needs vendor and product ids as four hex digits each: usb://VID:PID, for example usb://16c0:05dc");
        }
        Optional<String> serial = Optional.ofNullable(o.take("serial"));
        OptionalInt bus = optionalInt(o, "bus", 0, 255);
        OptionalInt address = optionalInt(o, "address", 0, 127);
        int iface = o.takeInt("interface", 0, 0, 255);
        OptionalInt in = optionalInt(o, "in", 0x81, 0x8f);
        OptionalInt out = optionalInt(o, "out", 0x01, 0x0f);
        java.time.Duration timeout = o.takeDuration("timeout", java.time.Duration.ZERO);
        Optional<String> profile = Optional.ofNullable(o.take("profile"));
        java.util.Map<String, String> rest = new java.util.TreeMap<>(o.rest());
        if (profile.isEmpty() && !rest.isEmpty()) {
            o.requireConsumed(new java.util.TreeSet<>(Set.of("serial", "bus", "address", "interface", "in", "out", "timeout", "profile")));
        }
        return new UsbAddress(Integer.parseInt(vp[0], 16), Integer.parseInt(vp[1], 16), serial, bus, address, iface,
                in, out, timeout, profile, rest);
    }

    private static OptionalInt optionalInt(UriOptions o, String key, int min, int max) {
        return o.rest().containsKey(key) ? OptionalInt.of(o.takeInt(key, 0, min, max)) : OptionalInt.empty();
    }

    private static boolean isHexId(String s) {
        return s.length() == 4 && s.chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    /** The canonical URI of this endpoint. */
    @Override
    public String toString() {
        return address.toUri();
    }
}
