package io.mancom.core.mux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;

import java.util.List;

/**
 * Turns {@link MuxFrame}s into bytes: the 8-byte little-endian header drawn in
 * {@link MuxFrameDecoder}, then a Data frame's payload.
 *
 * <h2>Buffers</h2>
 * A small payload is copied behind its header into one buffer (one write, one syscall vector); a
 * large one is passed on as it is, behind a separate header buffer, so bulk data is never copied.
 * The frame is released after encoding, as with every {@link MessageToMessageEncoder}.
 *
 * <h2>Threading</h2>
 * Stateless and {@link ChannelHandler.Sharable}: use {@link #INSTANCE}.
 */
@ChannelHandler.Sharable
public final class MuxFrameEncoder extends MessageToMessageEncoder<MuxFrame> {

    /** The shared instance. */
    public static final MuxFrameEncoder INSTANCE = new MuxFrameEncoder();

    // Below this a copy costs less than a second buffer in the write.
    private static final int COPY_THRESHOLD = 1024;

    private MuxFrameEncoder() {
        super(MuxFrame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, MuxFrame frame, List<Object> out) {
        ByteBuf payload = frame.content();
        int length = frame.type() == MuxFrame.Type.DATA ? payload.readableBytes() : frame.length();
        if (frame.type() != MuxFrame.Type.DATA || length <= COPY_THRESHOLD) {
            ByteBuf buf = ctx.alloc().ioBuffer(MuxFrame.HEADER_SIZE + (frame.type() == MuxFrame.Type.DATA ? length : 0));
            writeHeader(buf, frame.streamId(), length, frame.type());
            if (frame.type() == MuxFrame.Type.DATA) {
                buf.writeBytes(payload, payload.readerIndex(), length);
            }
            out.add(buf);
            return;
        }
        ByteBuf header = ctx.alloc().ioBuffer(MuxFrame.HEADER_SIZE);
        writeHeader(header, frame.streamId(), length, frame.type());
        out.add(header);
        out.add(payload.retain());
    }

    /** Writes one frame header to {@code buf}. */
    public static void writeHeader(ByteBuf buf, int streamId, int length, MuxFrame.Type type) {
        buf.writeIntLE(streamId);
        buf.writeMediumLE(length);
        buf.writeByte(type.flags());
    }
}
