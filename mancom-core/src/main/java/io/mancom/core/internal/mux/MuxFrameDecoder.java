package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Turns the bytes of a link into {@link MuxFrame}s. Stateless apart from the bytes of one
 * incomplete frame; it knows nothing of streams, credit or roles (that is
 * {@link MuxSessionHandler}'s job).
 *
 * <h2>Wire format</h2>
 * All integers are little-endian. Every frame starts with an 8-byte header; only Data frames have
 * a payload, of exactly {@code length} bytes:
 * <pre>
 *  byte   0      1      2      3      4      5      6      7      8 ...
 *       +------+------+------+------+------+------+------+------+------------------+
 *       |        id (uint32 LE)     |  length (uint24 LE) | flags| payload (Data)   |
 *       +------+------+------+------+------+------+------+------+------------------+
 * </pre>
 * {@code flags} is the frame type: 0 Data, 1 Keepalive, 2 OpenStream, 3 CloseRead, 4 CloseWrite,
 * 5 CloseStream, 6 WindowUpdate, 7 CloseMux. For example, 5 bytes {@code "hello"} of data on
 * stream 2, then a WindowUpdate of 65536 on stream 3:
 * <pre>
 *   02 00 00 00  05 00 00  00  68 65 6c 6c 6f     Data, id 2, length 5, "hello"
 *   03 00 00 00  00 00 01  06                     WindowUpdate, id 3, length 0x010000
 * </pre>
 * A Hello is a Keepalive whose id is {@code 0x584D434D} (the bytes {@code 4D 43 4D 58},
 * "MCMX"), its length carrying capabilities (bits 0..7) and a tie-breaker (bits 8..23):
 * <pre>
 *   4d 43 4d 58  01 34 12  01                     Hello, caps 0x01, tie-breaker 0x1234
 * </pre>
 *
 * <h2>Errors</h2>
 * A Data frame longer than {@value MuxFrame#MAX_DATA} bytes or a frame whose flags are above 7 is
 * a {@link MuxProtocolException}, raised as soon as the header is seen (before any payload is
 * buffered). After one error the decoder discards everything that follows: the link is no longer
 * in step with the peer and the session is ending.
 *
 * <h2>Memory</h2>
 * The decoder never waits for more than one frame: the length is checked in the header, so at
 * most {@value MuxFrame#HEADER_SIZE} + {@value MuxFrame#MAX_DATA} bytes of an incomplete frame
 * are held between reads. A payload that fills at least half of the read buffer is passed on as a
 * zero-copy slice; a smaller one is copied, so that many tiny frames a slow stream holds on to
 * cannot each pin a large read buffer.
 *
 * <h2>Reference counting and threading</h2>
 * Each frame is passed on with a reference count of one, owned by the next handler. One instance
 * per channel; event-loop only, like any {@link ByteToMessageDecoder}.
 */
public final class MuxFrameDecoder extends ByteToMessageDecoder {

    private boolean failed;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < MuxFrame.HEADER_SIZE) {
            return;
        }
        int at = in.readerIndex();
        int id = in.getIntLE(at);
        int length = in.getUnsignedMediumLE(at + 4);
        int flags = in.getUnsignedByte(at + 7);
        if (flags > MuxFrame.Type.CLOSE_MUX.flags()) {
            throw fail("unknown frame type (flags = " + flags + ") on stream " + Integer.toUnsignedString(id)
                    + ": flags must be 0..7", in);
        }
        MuxFrame.Type type = MuxFrame.Type.ofFlags(flags);
        if (type != MuxFrame.Type.DATA) {
            in.skipBytes(MuxFrame.HEADER_SIZE);
            out.add(MuxFrame.control(type, id, length));
            return;
        }
        if (length > MuxFrame.MAX_DATA) {
            throw fail("Data frame of " + length + " bytes on stream " + Integer.toUnsignedString(id)
                    + ": at most " + MuxFrame.MAX_DATA + " are allowed", in);
        }
        if (in.readableBytes() < MuxFrame.HEADER_SIZE + length) {
            return;
        }
        in.skipBytes(MuxFrame.HEADER_SIZE);
        ByteBuf payload;
        if (2L * length >= in.capacity()) {
            payload = in.readRetainedSlice(length);
        } else {
            payload = ctx.alloc().buffer(length);
            payload.writeBytes(in, length);
        }
        out.add(MuxFrame.data(id, payload));
    }

    private MuxProtocolException fail(String message, ByteBuf in) {
        failed = true;
        in.skipBytes(in.readableBytes());
        return new MuxProtocolException(message);
    }
}
