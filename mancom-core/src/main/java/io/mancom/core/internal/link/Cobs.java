package io.mancom.core.internal.link;

import io.netty.buffer.ByteBuf;

/**
 * Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999): a frame without {@code 0x00}
 * bytes, so {@code 0x00} can delimit frames. Each group starts with a code byte {@code c}: the
 * next {@code c - 1} bytes are data, followed by a {@code 0x00} unless {@code c = 0xFF} or the
 * frame ends. The overhead is one byte per 254 bytes at most, whatever the data (HDLC's escaping
 * doubles a frame of flag bytes). Stateless.
 */
final class Cobs {
    private Cobs() {
    }

    /** The longest encoding of {@code n} bytes (without the delimiter). */
    static int maxEncodedLength(int n) {
        return n + n / 254 + 1;
    }

    /** Encodes {@code src[from, from + n)} into {@code out}, without a delimiter. */
    static void encode(ByteBuf src, int from, int n, ByteBuf out) {
        int codeAt = out.writerIndex();
        out.writeByte(0);
        int code = 1;
        for (int i = from, end = from + n; i < end; i++) {
            byte b = src.getByte(i);
            if (b == 0) {
                out.setByte(codeAt, code);
                codeAt = out.writerIndex();
                out.writeByte(0);
                code = 1;
            } else {
                out.writeByte(b);
                if (++code == 0xFF) {
                    out.setByte(codeAt, code);
                    codeAt = out.writerIndex();
                    out.writeByte(0);
                    code = 1;
                }
            }
        }
        out.setByte(codeAt, code);
    }

    /** Decodes {@code in[0, n)} into {@code out}; false if it is not a valid encoding. */
    static boolean decode(byte[] in, int n, ByteBuf out) {
        int i = 0;
        while (i < n) {
            int code = in[i++] & 0xFF;
            if (code == 0 || i + code - 1 > n) {
                return false;
            }
            out.writeBytes(in, i, code - 1);
            i += code - 1;
            if (code < 0xFF && i < n) {
                out.writeByte(0);
            }
        }
        return true;
    }
}
