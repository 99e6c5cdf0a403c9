package io.mancom.core.internal.mux;

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
    static final int COPY_THRESHOLD = 1024;

    private MuxFrameEncoder() {
        super(MuxFrame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, MuxFrame frame, List<Object> out) {
        ByteBuf payload = frame.content();
        int length = frame.type() == MuxFrame.Type.DATA ? payload.readableBytes() : frame.length();
        if (copies(frame)) {
            ByteBuf buf = ctx.alloc().ioBuffer(MuxFrame.HEADER_SIZE + (frame.type() == MuxFrame.Type.DATA ? length : 0));
            encodeInto(buf, frame);
            out.add(buf);
            return;
        }
        ByteBuf header = ctx.alloc().ioBuffer(MuxFrame.HEADER_SIZE);
        writeHeader(header, frame.streamId(), length, frame.type());
        out.add(header);
        out.add(payload.retain());
    }

    /**
     * Whether {@code frame} is small enough to be copied whole into a shared buffer: every control
     * frame, and Data of up to {@link #COPY_THRESHOLD} bytes. {@link MuxSessionHandler} coalesces
     * such frames with {@link #encodeInto} and writes them to the link as one buffer per flush.
     */
    static boolean copies(MuxFrame frame) {
        return frame.type() != MuxFrame.Type.DATA || frame.content().readableBytes() <= COPY_THRESHOLD;
    }

    /**
     * Appends a frame for which {@link #copies} is true to {@code buf}: header, then any payload
     * (copied). The frame is not released.
     */
    static void encodeInto(ByteBuf buf, MuxFrame frame) {
        if (frame.type() == MuxFrame.Type.DATA) {
            ByteBuf payload = frame.content();
            int length = payload.readableBytes();
            writeHeader(buf, frame.streamId(), length, frame.type());
            buf.writeBytes(payload, payload.readerIndex(), length);
        } else {
            writeHeader(buf, frame.streamId(), frame.length(), frame.type());
        }
    }

    /** Writes one frame header to {@code buf}. */
    public static void writeHeader(ByteBuf buf, int streamId, int length, MuxFrame.Type type) {
        buf.writeIntLE(streamId);
        buf.writeMediumLE(length);
        buf.writeByte(type.flags());
    }
}
