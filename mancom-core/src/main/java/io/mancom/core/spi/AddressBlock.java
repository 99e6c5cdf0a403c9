package io.mancom.core.spi;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

/**
 * A block of addresses in CIDR notation, as {@code tcp.allow} and {@code tcp.deny} list them:
 * {@code 10.0.0.0/8}, {@code ::1/128}, {@code ::ffff:192.168.0.0/112}; a bare address is the
 * block of that one address.
 *
 * <h2>One address space</h2>
 * IPv4 is taken as the IPv6 block {@code ::ffff:0:0/96} (IPv4-mapped addresses), as a dual-stack
 * socket sees IPv4 peers. So {@code 10.0.0.0/8} and {@code ::ffff:10.0.0.0/104} are the same
 * block, {@code ::/0} contains every IPv4 peer too, and a peer is matched the same way whether it
 * arrives on an IPv4 socket, or on an IPv6 socket as a mapped address. {@link #v4Prefix()} gives
 * the part of a block that applies to IPv4 packets, for the kernel filter.
 *
 * <p>An immutable value; thread-safe. {@link #parse} throws {@link IllegalArgumentException} for
 * anything but a numeric address with an optional prefix length (no host names: a filter must not
 * depend on DNS).
 *
 * @param address the block's first address, 16 bytes (IPv4 as {@code ::ffff:a.b.c.d}), with the
 *                bits past the prefix zero
 * @param prefix  the prefix length in the 128-bit space, 0 to 128
 * @param text    the block as written
 */
public record AddressBlock(byte[] address, int prefix, String text) {
    private static final byte[] MAPPED_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};

    public AddressBlock {
        Objects.requireNonNull(text, "text");
        if (address.length != 16) {
            throw new IllegalArgumentException("address must be 16 bytes: " + address.length);
        }
        if (prefix < 0 || prefix > 128) {
            throw new IllegalArgumentException("prefix out of 0..128: " + prefix);
        }
        address = masked(address, prefix);
    }

    /**
     * Parses {@code ADDRESS[/PREFIX]}.
     *
     * @throws IllegalArgumentException saying what is wrong, for example
     *                                  {@code prefix /33 is longer than an IPv4 address (32 bits)}
     */
    public static AddressBlock parse(String text) {
        String s = text.trim();
        int slash = s.indexOf('/');
        String host = slash < 0 ? s : s.substring(0, slash);
        boolean v6 = host.indexOf(':') >= 0;
        if (host.isEmpty() || !(v6 ? host.matches("[0-9A-Fa-f:.]+") : host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}"))) {
            throw new IllegalArgumentException("\"" + host + "\" is not a numeric IPv4 or IPv6 address");
        }
        int bits = v6 ? 128 : 32;
        int prefix = bits;
        if (slash >= 0) {
            String p = s.substring(slash + 1);
            if (!p.matches("[0-9]{1,3}")) {
                throw new IllegalArgumentException("\"/" + p + "\" is not a prefix length");
            }
            prefix = Integer.parseInt(p);
            if (prefix > bits) {
                throw new IllegalArgumentException("prefix /" + prefix + " is longer than an " + (v6 ? "IPv6" : "IPv4")
                        + " address (" + bits + " bits)");
            }
        }
        if (!v6) {
            byte[] v4 = new byte[4];
            String[] parts = host.split("\\.");
            for (int i = 0; i < 4; i++) {
                int octet = Integer.parseInt(parts[i]);
                if (octet > 255) {
                    throw new IllegalArgumentException("\"" + host + "\" is not a valid IPv4 address (" + octet + " > 255)");
                }
                v4[i] = (byte) octet;
            }
            return new AddressBlock(mapped(v4), prefix + 96, text.trim());
        }
        InetAddress a;
        try {
            a = InetAddress.getByName(host); // an IPv6 literal (checked above): no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + host + "\" is not a valid IPv6 address");
        }
        if (v6 && !(a instanceof Inet6Address) && a instanceof Inet4Address) {
            // Java hands back ::ffff:a.b.c.d as an Inet4Address; the prefix was given in 128 bits.
            return new AddressBlock(mapped(a.getAddress()), prefix, text.trim());
        }
        byte[] raw = a.getAddress();
        return raw.length == 4
                ? new AddressBlock(mapped(raw), prefix + 96, text.trim())
                : new AddressBlock(raw, prefix, text.trim());
    }

    /** Whether {@code peer} is in the block (an IPv4 peer as its mapped address). */
    public boolean contains(InetAddress peer) {
        byte[] p = peer.getAddress();
        return matches(p.length == 4 ? mapped(p) : p);
    }

    private boolean matches(byte[] a16) {
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a16[i] != address[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (a16[full] & mask) == (address[full] & 0xff);
    }

    /**
     * The part of the block that holds IPv4 addresses, as an IPv4 prefix length (0 to 32; the
     * block's first IPv4 address is {@link #v4Address()}), or -1 if it holds none.
     */
    public int v4Prefix() {
        if (prefix <= 96) {
            byte[] mappedZero = mapped(new byte[4]);
            return matches(mappedZero) ? 0 : -1;
        }
        for (int i = 0; i < 12; i++) {
            if (address[i] != MAPPED_PREFIX[i]) {
                return -1;
            }
        }
        return prefix - 96;
    }

    /** The block's first IPv4 address as an unsigned 32-bit number (meaningful when {@link #v4Prefix()} >= 0). */
    public long v4Address() {
        return v4Prefix() == 0 ? 0 : (((address[12] & 0xffL) << 24) | ((address[13] & 0xff) << 16)
                | ((address[14] & 0xff) << 8) | (address[15] & 0xff));
    }

    /** Whether the block holds addresses outside {@code ::ffff:0:0/96}, which only IPv6 packets carry. */
    public boolean holdsIpv6() {
        return prefix < 96 || v4Prefix() < 0;
    }

    /** The block's first address, a copy (16 bytes). */
    @Override
    public byte[] address() {
        return address.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AddressBlock b && b.prefix == prefix && Arrays.equals(b.address, address);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(address) * 31 + prefix;
    }

    @Override
    public String toString() {
        return text;
    }

    private static byte[] mapped(byte[] v4) {
        byte[] a = Arrays.copyOf(MAPPED_PREFIX, 16);
        System.arraycopy(v4, 0, a, 12, 4);
        return a;
    }

    private static byte[] masked(byte[] a, int prefix) {
        byte[] m = a.clone();
        for (int i = 0; i < 16; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            m[i] = (byte) (m[i] & ((0xff << (8 - keep)) & 0xff));
        }
        return m;
    }
}
