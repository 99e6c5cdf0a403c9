package io.mancom.core.internal.sniff;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The server name (SNI) and the ALPN protocols of a TLS ClientHello, read from the first bytes
 * of a connection without consuming them. The ClientHello may span several TLS records (one with
 * post-quantum key shares is over 1,500 bytes, and a client may cut it into small records) and
 * several reads: {@link #parse} answers {@link #INCOMPLETE} until the whole handshake message is
 * there.
 *
 * <pre>
 * record:    type (22 = handshake) | version (3, x) | length (u16) | fragment
 * handshake: type (1 = client_hello) | length (u24) | version (u16) | random (32)
 *            | session id (u8 len) | cipher suites (u16 len) | compression (u8 len)
 *            | extensions (u16 len): type (u16) | length (u16) | data
 *              server_name (0): list (u16) of name type (u8, 0 = host) | name (u16 len)
 *              ALPN (16):       list (u16) of protocol (u8 len)
 * </pre>
 *
 * <p>Immutable results; the parser is stateless and thread-safe. It never reads past
 * {@code limit} bytes, and anything malformed is {@link #NOT_TLS}.
 *
 * @param sni  the host name the client asked for (lower case), or null
 * @param alpn the protocols the client offers, in its order
 */
record ClientHello(String sni, List<String> alpn) {
    /** The bytes are not the start of a TLS ClientHello. */
    static final ClientHello NOT_TLS = new ClientHello(null, List.of());
    /** So far the bytes are a ClientHello's start; more are needed. */
    static final ClientHello INCOMPLETE = new ClientHello(null, List.of());

    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int MAX_RECORD = 16384 + 2048;

    /** Reads the ClientHello at the start of {@code in}'s readable bytes, looking at no more than {@code limit}. */
    static ClientHello parse(ByteBuf in, int limit) {
        int start = in.readerIndex();
        int n = Math.min(in.readableBytes(), limit);
        if (n < 1) {
            return INCOMPLETE;
        }
        if (in.getUnsignedByte(start) != HANDSHAKE || (n >= 2 && in.getUnsignedByte(start + 1) != 3)) {
            return NOT_TLS;
        }
        // Concatenate the fragments of the handshake records that are here.
        byte[] hs = new byte[n];
        int hsLen = 0;
        int pos = 0;
        while (pos < n) {
            if (n - pos < 5) {
                return INCOMPLETE;
            }
            int type = in.getUnsignedByte(start + pos);
            int major = in.getUnsignedByte(start + pos + 1);
            int length = in.getUnsignedShort(start + pos + 3);
            if (type != HANDSHAKE || major != 3 || length == 0 || length > MAX_RECORD) {
                return NOT_TLS;
            }
            int avail = Math.min(length, n - pos - 5);
            in.getBytes(start + pos + 5, hs, hsLen, avail);
            hsLen += avail;
            pos += 5 + length;
            if (hsLen >= 4) {
                if ((hs[0] & 0xff) != CLIENT_HELLO) {
                    return NOT_TLS;
                }
                int bodyLen = ((hs[1] & 0xff) << 16) | ((hs[2] & 0xff) << 8) | (hs[3] & 0xff);
                if (hsLen >= 4 + bodyLen) {
                    return body(hs, 4, 4 + bodyLen);
                }
                if (4 + bodyLen > limit) {
                    return NOT_TLS; // it could never fit the bound: no rule can see it whole
                }
            }
        }
        return INCOMPLETE;
    }

    /** The ClientHello body in {@code b[from, to)}. */
    private static ClientHello body(byte[] b, int from, int to) {
        Reader r = new Reader(b, from, to);
        if (!r.skip(2 + 32) || !r.skip(r.u8()) || !r.skip(r.u16()) || !r.skip(r.u8())) {
            return NOT_TLS;
        }
        if (r.remaining() == 0) {
            return new ClientHello(null, List.of()); // no extensions
        }
        int extEnd = r.u16();
        if (extEnd < 0 || extEnd > r.remaining()) {
            return NOT_TLS;
        }
        extEnd += r.pos;
        String sni = null;
        List<String> alpn = List.of();
        while (r.pos + 4 <= extEnd) {
            int type = r.u16();
            int len = r.u16();
            if (r.pos + len > extEnd) {
                return NOT_TLS;
            }
            Reader ext = new Reader(b, r.pos, r.pos + len);
            if (type == 0) {
                sni = serverName(ext);
            } else if (type == 16) {
                alpn = protocols(ext);
                if (alpn == null) {
                    return NOT_TLS;
                }
            }
            r.pos += len;
        }
        return new ClientHello(sni, alpn);
    }

    private static String serverName(Reader r) {
        int listEnd = r.u16();
        if (listEnd < 0) {
            return null;
        }
        listEnd = Math.min(r.to, r.pos + listEnd);
        while (r.pos + 3 <= listEnd) {
            int type = r.u8();
            int len = r.u16();
            if (r.pos + len > listEnd) {
                return null;
            }
            if (type == 0) {
                return new String(r.b, r.pos, len, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT);
            }
            r.pos += len;
        }
        return null;
    }

    private static List<String> protocols(Reader r) {
        int listLen = r.u16();
        if (listLen < 0 || listLen > r.remaining()) {
            return null;
        }
        int end = r.pos + listLen;
        List<String> out = new ArrayList<>();
        while (r.pos < end) {
            int len = r.u8();
            if (len <= 0 || r.pos + len > end) {
                return null;
            }
            out.add(new String(r.b, r.pos, len, StandardCharsets.US_ASCII));
            r.pos += len;
        }
        return out;
    }

    /** Bounds-checked big-endian reads; -1 past the end. */
    private static final class Reader {
        final byte[] b;
        final int to;
        int pos;

        Reader(byte[] b, int from, int to) {
            this.b = b;
            this.pos = from;
            this.to = to;
        }

        int remaining() {
            return to - pos;
        }

        int u8() {
            return pos + 1 <= to ? b[pos++] & 0xff : -1;
        }

        int u16() {
            if (pos + 2 > to) {
                return -1;
            }
            int v = ((b[pos] & 0xff) << 8) | (b[pos + 1] & 0xff);
            pos += 2;
            return v;
        }

        boolean skip(int n) {
            if (n < 0 || pos + n > to) {
                return false;
            }
            pos += n;
            return true;
        }
    }
}
