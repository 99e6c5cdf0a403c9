package io.mancom.core.internal.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.zip.CRC32C;

/**
 * Bytes to reliable-link frames: cuts the stream at each {@code 0x00} delimiter, COBS-decodes the
 * bytes between two delimiters, checks and strips the CRC-32C (4 bytes, little-endian, over the
 * decoded body) and passes the body on as a {@link ByteBuf} (the next handler owns it).
 *
 * <p>Resynchronisation needs no state beyond the current frame: COBS never puts a {@code 0x00}
 * inside a frame, so whatever garbage, truncation or bit flip hits the line, the next delimiter
 * starts a clean frame. A damaged frame fails its CRC (or its COBS structure) and is dropped and
 * counted; the ARQ above sends it again.
 *
 * <p>Bounded: one frame at most is buffered, {@code maxBody + 4} bytes decoded; bytes past that
 * before a delimiter are dropped (counted) up to the next delimiter. Not sharable; one per link.
 */
final class CobsFrameDecoder extends ChannelInboundHandlerAdapter {
    private final LinkCounters counters;
    private final byte[] frame;   // the encoded bytes since the last delimiter
    private int length;
    private boolean overflow;
    private final CRC32C crc = new CRC32C();
    private final byte[] head = new byte[16]; // the first bytes received, to name a foreign protocol
    private int headLength;
    private long received;

    /** @param maxBody the largest body (type byte to end of payload) a frame may carry */
    CobsFrameDecoder(int maxBody, LinkCounters counters) {
        this.counters = counters;
        this.frame = new byte[Cobs.maxEncodedLength(maxBody + 4)];
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            received += in.readableBytes();
            if (headLength < head.length) {
                int n = Math.min(head.length - headLength, in.readableBytes());
                in.getBytes(in.readerIndex(), head, headLength, n);
                headLength += n;
            }
            while (in.isReadable()) {
                int start = in.readerIndex();
                int end = in.writerIndex();
                int zero = in.indexOf(start, end, (byte) 0);
                int take = (zero < 0 ? end : zero) - start;
                append(in, start, take);
                in.readerIndex(start + take);
                if (zero >= 0) {
                    in.skipBytes(1);
                    frameEnd(ctx);
                }
            }
        } finally {
            in.release();
        }
    }

    private void append(ByteBuf in, int from, int n) {
        if (overflow) {
            counters.droppedBytes.add(n);
            return;
        }
        if (length + n > frame.length) {
            overflow = true;
            counters.droppedBytes.add(length + n);
            length = 0;
            return;
        }
        in.getBytes(from, frame, length, n);
        length += n;
    }

    private void frameEnd(ChannelHandlerContext ctx) {
        if (overflow) {
            overflow = false;
            counters.badFrames.increment();
            return;
        }
        int n = length;
        length = 0;
        if (n == 0) {
            return; // back-to-back delimiters: an idle line's resync byte
        }
        ByteBuf body = ctx.alloc().heapBuffer(n);
        boolean ok = false;
        try {
            if (!Cobs.decode(frame, n, body) || body.readableBytes() < 5) {
                counters.badFrames.increment();
                counters.droppedBytes.add(n);
                return;
            }
            int bodyLength = body.readableBytes() - 4;
            crc.reset();
            crc.update(body.array(), body.arrayOffset() + body.readerIndex(), bodyLength);
            if ((int) crc.getValue() != body.getIntLE(body.readerIndex() + bodyLength)) {
                counters.crcErrors.increment();
                counters.droppedBytes.add(n);
                return;
            }
            body.writerIndex(body.readerIndex() + bodyLength);
            counters.framesIn.increment();
            ok = true;
        } finally {
            if (!ok) {
                body.release();
            }
        }
        ctx.fireChannelRead(body);
    }

    /** Bytes received on this link. */
    long received() {
        return received;
    }

    /** The first bytes this link received, in hex (for the error about a peer that is not in reliable mode). */
    String head() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < headLength; i++) {
            b.append(i == 0 ? "" : " ").append(String.format("%02x", head[i] & 0xFF));
        }
        return b.toString();
    }

    /** Whether the first bytes are a plain mux's Hello (a Keepalive with id "MCMX"). */
    boolean headIsMuxHello() {
        return headLength >= 8 && head[0] == 0x4d && head[1] == 0x43 && head[2] == 0x4d && head[3] == 0x58 && head[7] == 1;
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        length = 0;
    }
}
