package io.mancom.core.internal.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;

/**
 * The bodies of reliable-link frames (before CRC and COBS; docs/reliable-link.md). All integers
 * little-endian; sequence numbers are 16 bits on the wire and widened against a reference by
 * {@link #widen}. Stateless.
 *
 * <pre>
 * HELLO  01 'M' 'C' 'R' 'L' version(1) flags(1) frame-size(2) window(2) my-id(8) your-id(8) next(2)
 * DATA   02 seq(2) ack(2) payload(1..frame-size)
 * ACK    03 ack(2) limit(2) sack(0..64)
 * CLOSE  04 code(1) reason(UTF-8, 0..200)
 * </pre>
 */
final class LinkFrames {
    static final byte HELLO = 1;
    static final byte DATA = 2;
    static final byte ACK = 3;
    static final byte CLOSE = 4;

    static final int VERSION = 1;
    static final int MAGIC = 0x4C52434D; // "MCRL" read little-endian
    static final int HELLO_LENGTH = 1 + 4 + 1 + 1 + 2 + 2 + 8 + 8 + 2;
    /** HELLO flag: the sender has received the receiver's HELLO (the handshake is done on its side). */
    static final int FLAG_SEEN = 1;
    /** HELLO flag: the sender waits for the peer's HELLO before it decides (a TCP listener). */
    static final int FLAG_FOLLOWER = 2;
    static final int DATA_HEADER = 5;
    static final int MAX_SACK_BYTES = 64;
    static final int MAX_REASON_BYTES = 200;

    /** CLOSE code: the session ended normally (the peer closed it). */
    static final int CLOSE_NORMAL = 0;
    /** CLOSE code: the handshake failed; the reason says why. */
    static final int CLOSE_REJECT = 1;
    /** CLOSE code: the sender does not know the session the frames are for. */
    static final int CLOSE_UNKNOWN_SESSION = 2;

    private LinkFrames() {
    }

    /** A HELLO, decoded. */
    record Hello(int version, int flags, int frameSize, int window, long myId, long yourId, int next) {
        boolean seen() {
            return (flags & FLAG_SEEN) != 0;
        }

        boolean follower() {
            return (flags & FLAG_FOLLOWER) != 0;
        }

        ByteBuf encode(ByteBufAllocator alloc) {
            ByteBuf b = alloc.heapBuffer(HELLO_LENGTH + 4);
            b.writeByte(HELLO).writeIntLE(MAGIC).writeByte(version).writeByte(flags)
                    .writeShortLE(frameSize).writeShortLE(window).writeLongLE(myId).writeLongLE(yourId).writeShortLE(next);
            return b;
        }

        /** The HELLO in {@code body} (after its type byte), or null if it is not one. */
        static Hello decode(ByteBuf body) {
            if (body.readableBytes() < HELLO_LENGTH - 1 || body.readIntLE() != MAGIC) {
                return null;
            }
            return new Hello(body.readUnsignedByte(), body.readUnsignedByte(), body.readUnsignedShortLE(),
                    body.readUnsignedShortLE(), body.readLongLE(), body.readLongLE(), body.readUnsignedShortLE());
        }
    }

    static ByteBuf data(ByteBufAllocator alloc, int seq, int ack, ByteBuf payload) {
        int n = payload.readableBytes();
        ByteBuf b = alloc.heapBuffer(DATA_HEADER + n + 4);
        b.writeByte(DATA).writeShortLE(seq).writeShortLE(ack);
        b.writeBytes(payload, payload.readerIndex(), n);
        return b;
    }

    static ByteBuf ack(ByteBufAllocator alloc, int ack, int limit, byte[] sack, int sackLength) {
        ByteBuf b = alloc.heapBuffer(5 + sackLength + 4);
        b.writeByte(ACK).writeShortLE(ack).writeShortLE(limit).writeBytes(sack, 0, sackLength);
        return b;
    }

    static ByteBuf close(ByteBufAllocator alloc, int code, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, MAX_REASON_BYTES);
        ByteBuf b = alloc.heapBuffer(2 + n + 4);
        b.writeByte(CLOSE).writeByte(code).writeBytes(text, 0, n);
        return b;
    }

    /** The full sequence number nearest to {@code reference} whose low 16 bits are {@code wire}. */
    static int widen(int wire, int reference) {
        return reference + (short) (wire - reference);
    }
}
