package io.mancom.core.internal.mux;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fuzzes {@link MuxFrameDecoder} on an {@link EmbeddedChannel}, the input cut into reads of sizes
 * the input chooses. What must hold for any bytes:
 * <ul>
 *   <li>the only exception is a {@link MuxProtocolException}, and after it no frame comes out;</li>
 *   <li>the frames are exactly those a plain reading of the header rules gives (a model of
 *       docs/protocol.md section 1 in this class): same types, ids, lengths and payload bytes;</li>
 *   <li>the decoder never holds more than one incomplete frame (8 + 65536 bytes);</li>
 *   <li>every buffer is released once the frames are released and the channel finished.</li>
 * </ul>
 * Input: byte 0 picks the read size (0: all at once, else 1..255 bytes per read); the rest is
 * what the link delivers. Seeds: {@code MuxFrameDecoderFuzzTestInputs/decode/} (docs/fuzzing.md).
 */
class MuxFrameDecoderFuzzTest {

    private static final int MOST_HELD = MuxFrame.HEADER_SIZE + MuxFrame.MAX_DATA;
    private static final Method ACTUAL_READABLE;

    static {
        try {
            ACTUAL_READABLE = ByteToMessageDecoder.class.getDeclaredMethod("actualReadableBytes");
            ACTUAL_READABLE.setAccessible(true);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @FuzzTest(maxDuration = "60s")
    void decode(byte[] input) throws Exception {
        if (input.length == 0) {
            return;
        }
        int step = input[0] & 0xFF;
        List<Expected> expected = new ArrayList<>();
        boolean modelFails = model(input, 1, expected);

        TrackingAllocator alloc = new TrackingAllocator();
        MuxFrameDecoder decoder = new MuxFrameDecoder();
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(decoder);
        ch.register();
        List<Expected> got = new ArrayList<>();
        boolean failed = false;
        try {
            for (int at = 1; at < input.length; ) {
                int end = step == 0 ? input.length : Math.min(input.length, at + step);
                try {
                    ch.writeInbound(alloc.copyOf(input, at, end));
                } catch (MuxProtocolException e) {
                    if (failed) {
                        throw new AssertionError("a second protocol error after the first", e);
                    }
                    failed = true;
                }
                drain(ch, got, failed);
                int held = (int) ACTUAL_READABLE.invoke(decoder);
                if (held >= MOST_HELD) {
                    throw new AssertionError("the decoder holds " + held + " bytes: more than one incomplete frame");
                }
                at = end;
            }
        } finally {
            ch.finishAndReleaseAll();
        }
        if (failed != modelFails) {
            throw new AssertionError("protocol error: decoder " + failed + ", model " + modelFails);
        }
        if (!got.equals(expected)) {
            throw new AssertionError("frames differ from the model:\n  decoder " + got + "\n  model   " + expected);
        }
        alloc.assertAllReleased("after the frames were released and the channel finished");
    }

    private static void drain(EmbeddedChannel ch, List<Expected> got, boolean failedBefore) {
        Object o;
        while ((o = ch.readInbound()) != null) {
            if (!(o instanceof MuxFrame f)) {
                throw new AssertionError("not a MuxFrame: " + o);
            }
            try {
                ByteBuf c = f.content();
                if (f.type() == MuxFrame.Type.DATA ? c.readableBytes() != f.length() : c.isReadable()) {
                    throw new AssertionError(f + " carries " + c.readableBytes() + " bytes");
                }
                got.add(new Expected(f.type(), f.streamId(), f.length(), ByteBufUtil.getBytes(c)));
            } finally {
                f.release();
            }
        }
    }

    /**
     * The frames in {@code in[from..]} by the rules of docs/protocol.md section 1, read whole.
     *
     * @return whether the bytes hold a protocol error (frames after it are not taken)
     */
    private static boolean model(byte[] in, int from, List<Expected> out) {
        int at = from;
        while (in.length - at >= MuxFrame.HEADER_SIZE) {
            int id = (in[at] & 0xFF) | (in[at + 1] & 0xFF) << 8 | (in[at + 2] & 0xFF) << 16 | (in[at + 3] & 0xFF) << 24;
            int length = (in[at + 4] & 0xFF) | (in[at + 5] & 0xFF) << 8 | (in[at + 6] & 0xFF) << 16;
            int flags = in[at + 7] & 0xFF;
            if (flags > 7) {
                return true;
            }
            if (flags != 0) {
                out.add(new Expected(MuxFrame.Type.ofFlags(flags), id, length, new byte[0]));
                at += MuxFrame.HEADER_SIZE;
                continue;
            }
            if (length > MuxFrame.MAX_DATA) {
                return true;
            }
            if (in.length - at - MuxFrame.HEADER_SIZE < length) {
                return false;
            }
            int p = at + MuxFrame.HEADER_SIZE;
            out.add(new Expected(MuxFrame.Type.DATA, id, length, Arrays.copyOfRange(in, p, p + length)));
            at = p + length;
        }
        return false;
    }

    /** A frame as compared: its header fields and payload. */
    private record Expected(MuxFrame.Type type, int id, int length, byte[] payload) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Expected e && type == e.type && id == e.id && length == e.length
                    && Arrays.equals(payload, e.payload);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(payload) * 31 + id;
        }

        @Override
        public String toString() {
            return type + "(" + Integer.toUnsignedString(id) + ", " + length + ")";
        }
    }
}
