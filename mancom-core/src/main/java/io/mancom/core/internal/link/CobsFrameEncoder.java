package io.mancom.core.internal.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Reliable-link frames to bytes: appends the CRC-32C of the body (4 bytes, little-endian),
 * COBS-encodes body and CRC, and ends the frame with a {@code 0x00} delimiter. After the line
 * was idle (100 ms without a frame) a frame also starts with a delimiter, so that noise the line
 * picked up meanwhile is cut off as a frame of its own instead of spoiling this one. Not
 * sharable; one per link.
 */
final class CobsFrameEncoder extends MessageToByteEncoder<ByteBuf> {
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final CRC32C crc = new CRC32C();
    private long lastWrite = System.nanoTime() - IDLE_NANOS - 1;

    CobsFrameEncoder() {
        super(ByteBuf.class, false);
    }

    @Override
    protected ByteBuf allocateBuffer(ChannelHandlerContext ctx, ByteBuf msg, boolean preferDirect) {
        return ctx.alloc().ioBuffer(Cobs.maxEncodedLength(msg.readableBytes() + 4) + 2);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, ByteBuf body, ByteBuf out) {
        long now = System.nanoTime();
        if (now - lastWrite > IDLE_NANOS) {
            out.writeByte(0);
        }
        lastWrite = now;
        int n = body.readableBytes();
        crc.reset();
        crc.update(body.nioBuffer());
        ByteBuf framed = ctx.alloc().heapBuffer(n + 4);
        try {
            framed.writeBytes(body).writeIntLE((int) crc.getValue());
            Cobs.encode(framed, 0, n + 4, out);
        } finally {
            framed.release();
        }
        out.writeByte(0);
    }
}
