package io.mancom.core.internal.forward;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The PROXY protocol version 2 header (haproxy.org/download/2.9/doc/proxy-protocol.txt, section
 * 2.2) that tells a backend the address of the client a relay connected for. Binary, sent once,
 * before the client's first byte:
 *
 * <pre>
 * 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A   signature (12 bytes)
 * 21                                    version 2, command PROXY (20 = LOCAL: no addresses)
 * 11 | 21 | 00                          TCP over IPv4 | TCP over IPv6 | unspecified
 * LL LL                                 length of what follows, big-endian: 12 | 36 | 0
 * src addr, dst addr, src port, dst port  (4+4+2+2 or 16+16+2+2 bytes, big-endian)
 * </pre>
 *
 * When one address is IPv4 and the other IPv6, both are sent as IPv6 (the IPv4 one mapped); when
 * either is not an IP socket address (a serial line, a Unix socket), the header is LOCAL with no
 * addresses, which a backend takes as "use the connection's own". Stateless.
 */
public final class ProxyV2 {
    static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private ProxyV2() {
    }

    /**
     * The header for a connection from {@code client} to {@code local} (this side's address).
     * The caller owns the buffer.
     */
    public static ByteBuf header(ByteBufAllocator alloc, SocketAddress client, SocketAddress local) {
        ByteBuf b = alloc.buffer(16 + 36);
        b.writeBytes(SIGNATURE);
        if (!(client instanceof InetSocketAddress src) || !(local instanceof InetSocketAddress dst)
                || src.getAddress() == null || dst.getAddress() == null) {
            return b.writeByte(0x20).writeByte(0x00).writeShort(0);
        }
        InetAddress s = src.getAddress();
        InetAddress d = dst.getAddress();
        b.writeByte(0x21);
        if (s instanceof Inet4Address && d instanceof Inet4Address) {
            b.writeByte(0x11).writeShort(12).writeBytes(s.getAddress()).writeBytes(d.getAddress());
        } else {
            b.writeByte(0x21).writeShort(36).writeBytes(v6(s)).writeBytes(v6(d));
        }
        return b.writeShort(src.getPort()).writeShort(dst.getPort());
    }

    /** The address as 16 bytes of IPv6 (an IPv4 one as ::ffff:a.b.c.d). */
    private static byte[] v6(InetAddress a) {
        if (a instanceof Inet6Address) {
            return a.getAddress();
        }
        byte[] out = new byte[16];
        out[10] = (byte) 0xff;
        out[11] = (byte) 0xff;
        System.arraycopy(a.getAddress(), 0, out, 12, 4);
        return out;
    }
}
