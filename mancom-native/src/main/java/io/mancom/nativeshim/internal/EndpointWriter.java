package io.mancom.nativeshim.internal;

import com.sun.jna.Pointer;
import io.mancom.EndPoint;
import io.mancom.SerialAddress;
import io.mancom.TcpAddress;
import io.mancom.UsbAddress;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * Writes an {@link EndPoint} into a C {@code struct mancom_endpoint}. The offsets are those of
 * mancom.h on LP64 Linux; mancom.c checks them with {@code _Static_assert}. C zeroes the struct
 * first.
 */
final class EndpointWriter {
    static final int TYPE = 0;
    static final int ADDR = 8;
    static final int URI = 288;
    static final int URI_SIZE = 512;
    private static final short AF_INET = 2;
    private static final short AF_INET6 = 10;

    private EndpointWriter() {
    }

    static void write(EndPoint ep, Pointer out) throws UnknownHostException {
        switch (ep.type()) {
            case TCP:
                out.setInt(TYPE, 1);
                tcp((TcpAddress) ep.address(), out);
                break;
            case SERIAL:
                out.setInt(TYPE, 2);
                serial((SerialAddress) ep.address(), out);
                break;
            case USB:
                out.setInt(TYPE, 3);
                usb((UsbAddress) ep.address(), out);
                break;
            default:
                throw new IllegalArgumentException("unknown transport " + ep.type());
        }
        string(out, URI, URI_SIZE, ep.toString());
    }

    private static void tcp(TcpAddress a, Pointer out) throws UnknownHostException {
        InetAddress ip = InetAddress.getByName(a.host());
        byte[] raw = ip.getAddress();
        out.setByte(ADDR + 2, (byte) (a.port() >>> 8));   // sin_port / sin6_port: network order
        out.setByte(ADDR + 3, (byte) a.port());
        if (ip instanceof Inet6Address) {
            out.setShort(ADDR, AF_INET6);
            out.write(ADDR + 8, raw, 0, 16);
            out.setInt(ADDR + 24, ((Inet6Address) ip).getScopeId());
        } else {
            out.setShort(ADDR, AF_INET);
            out.write(ADDR + 4, raw, 0, 4);
        }
    }

    private static void serial(SerialAddress a, Pointer out) {
        string(out, ADDR, 256, a.device());
        out.setInt(ADDR + 256, a.baud());
        out.setInt(ADDR + 260, a.dataBits());
        out.setInt(ADDR + 264, "NEOMS".charAt(a.parity().ordinal()));
        out.setInt(ADDR + 268, a.stopBits() == SerialAddress.StopBits.ONE ? 10
                : a.stopBits() == SerialAddress.StopBits.ONE_POINT_FIVE ? 15 : 20);
        out.setInt(ADDR + 272, a.flow().ordinal());
    }

    private static void usb(UsbAddress a, Pointer out) {
        out.setInt(ADDR, a.vendorId());
        out.setInt(ADDR + 4, a.productId());
        out.setInt(ADDR + 8, a.interfaceNumber());
        out.setInt(ADDR + 12, a.bus().orElse(-1));
        out.setInt(ADDR + 16, a.deviceAddress().orElse(-1));
        out.setInt(ADDR + 20, a.inEndpoint().orElse(-1));
        out.setInt(ADDR + 24, a.outEndpoint().orElse(-1));
        string(out, ADDR + 28, 128, a.serial().orElse(""));
    }

    /** A NUL-terminated copy, cut to {@code size - 1} bytes. */
    private static void string(Pointer out, long offset, int size, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, size - 1);
        out.write(offset, b, 0, n);
        out.setByte(offset + n, (byte) 0);
    }
}
