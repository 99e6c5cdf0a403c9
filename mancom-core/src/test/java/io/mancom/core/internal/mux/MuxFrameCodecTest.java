package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MuxFrameCodecTest {

    private static ByteBuf hex(String s) {
        return Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(s.replace(" ", "")));
    }

    private static String encode(MuxFrame frame) {
        EmbeddedChannel ch = new EmbeddedChannel(MuxFrameEncoder.INSTANCE);
        ch.writeOutbound(frame);
        StringBuilder sb = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            sb.append(ByteBufUtil.hexDump(b));
            b.release();
        }
        assertThat(ch.finishAndReleaseAll()).isFalse();
        return sb.toString();
    }

    /** Decodes {@code bytes}, fed whole or one byte at a time. */
    private static List<MuxFrame> decode(ByteBuf bytes, boolean byteByByte) {
        EmbeddedChannel ch = new EmbeddedChannel(new MuxFrameDecoder());
        try {
            if (byteByByte) {
                while (bytes.isReadable()) {
                    ch.writeInbound(bytes.readRetainedSlice(1));
                }
                bytes.release();
            } else {
                ch.writeInbound(bytes);
            }
            List<MuxFrame> frames = new ArrayList<>();
            MuxFrame f;
            while ((f = ch.readInbound()) != null) {
                frames.add(f);
            }
            return frames;
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void encodesEveryControlTypeLittleEndian() {
        assertThat(encode(MuxFrame.keepalive())).isEqualTo("0000000000000001");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.OPEN_STREAM, 2))).isEqualTo("0200000000000002");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.CLOSE_READ, 3))).isEqualTo("0300000000000003");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.CLOSE_WRITE, 0x01020304))).isEqualTo("0403020100000004");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.CLOSE_STREAM, -1))).isEqualTo("ffffffff00000005");
        assertThat(encode(MuxFrame.windowUpdate(3, 65536))).isEqualTo("0300000000000106");
        assertThat(encode(MuxFrame.windowUpdate(3, MuxFrame.MAX_LENGTH))).isEqualTo("03000000ffffff06");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.CLOSE_MUX, 0))).isEqualTo("0000000000000007");
        assertThat(encode(MuxFrame.hello(1, 0x1234))).isEqualTo("4d434d5801341201");
    }

    @Test
    void encodesSmallAndLargeData() {
        assertThat(encode(MuxFrame.data(2, Unpooled.copiedBuffer(new byte[]{'h', 'e', 'l', 'l', 'o'}))))
                .isEqualTo("0200000005000000" + "68656c6c6f");
        byte[] big = new byte[MuxFrame.MAX_DATA];
        new Random(1).nextBytes(big);
        assertThat(encode(MuxFrame.data(7, Unpooled.wrappedBuffer(big))))
                .isEqualTo("0700000000000100" + ByteBufUtil.hexDump(big));
        assertThat(encode(MuxFrame.data(7, Unpooled.EMPTY_BUFFER))).isEqualTo("0700000000000000");
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void decodesEveryType(boolean byteByByte) {
        ByteBuf in = Unpooled.buffer();
        for (MuxFrame.Type t : MuxFrame.Type.values()) {
            if (t != MuxFrame.Type.DATA) {
                MuxFrameEncoder.writeHeader(in, 0x80000001, t == MuxFrame.Type.WINDOW_UPDATE ? 0x123456 : 0, t);
            }
        }
        in.writeBytes(hex("4d434d58 013412 01"));
        List<MuxFrame> frames = decode(in, byteByByte);
        assertThat(frames).hasSize(8);
        for (int i = 0; i < 7; i++) {
            MuxFrame f = frames.get(i);
            assertThat(f.type().flags()).isEqualTo(i + 1);
            assertThat(f.unsignedStreamId()).isEqualTo(0x80000001L);
            assertThat(f.content().readableBytes()).isZero();
        }
        assertThat(frames.get(5).length()).isEqualTo(0x123456);
        MuxFrame hello = frames.get(7);
        assertThat(hello.isHello()).isTrue();
        assertThat(hello.helloCapabilities()).isEqualTo(1);
        assertThat(hello.helloTieBreak()).isEqualTo(0x1234);
        frames.forEach(MuxFrame::release);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 5, 1024, 1025, 40000, MuxFrame.MAX_DATA})
    void decodesDataWholeAndByteByByte(int size) {
        byte[] payload = new byte[size];
        new Random(size).nextBytes(payload);
        for (boolean byteByByte : new boolean[]{false, true}) {
            if (byteByByte && size > 5000) {
                continue; // one-byte feeding of 64 KiB adds nothing but time
            }
            ByteBuf in = Unpooled.buffer();
            MuxFrameEncoder.writeHeader(in, 4, size, MuxFrame.Type.DATA);
            in.writeBytes(payload);
            MuxFrameEncoder.writeHeader(in, 4, 0, MuxFrame.Type.CLOSE_READ);
            List<MuxFrame> frames = decode(in, byteByByte);
            assertThat(frames).hasSize(2);
            MuxFrame data = frames.get(0);
            assertThat(data.type()).isEqualTo(MuxFrame.Type.DATA);
            assertThat(data.length()).isEqualTo(size);
            assertThat(ByteBufUtil.getBytes(data.content())).isEqualTo(payload);
            assertThat(frames.get(1).type()).isEqualTo(MuxFrame.Type.CLOSE_READ);
            frames.forEach(MuxFrame::release);
        }
    }

    @Test
    void decodesManyFramesInOneBuffer() {
        ByteBuf in = Unpooled.buffer();
        for (int i = 0; i < 100; i++) {
            MuxFrameEncoder.writeHeader(in, i, 3, MuxFrame.Type.DATA);
            in.writeBytes(new byte[]{(byte) i, 2, 3});
        }
        List<MuxFrame> frames = decode(in, false);
        assertThat(frames).hasSize(100);
        for (int i = 0; i < 100; i++) {
            assertThat(frames.get(i).streamId()).isEqualTo(i);
            assertThat(frames.get(i).content().getByte(0)).isEqualTo((byte) i);
        }
        frames.forEach(MuxFrame::release);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void rejectsOversizeDataAtTheHeader(boolean byteByByte) {
        EmbeddedChannel ch = new EmbeddedChannel(new MuxFrameDecoder());
        // Only the header is sent: the decoder must refuse before any payload arrives.
        ByteBuf in = hex("03000000 010001 00");
        assertThatThrownBy(() -> {
            if (byteByByte) {
                while (in.isReadable()) {
                    ch.writeInbound(in.readRetainedSlice(1));
                }
            } else {
                ch.writeInbound(in.retain());
            }
        }).isInstanceOf(MuxProtocolException.class)
                .hasMessage("Data frame of 65537 bytes on stream 3: at most 65536 are allowed");
        in.release();
        // Whatever follows is discarded: the link is out of step.
        ch.writeInbound(hex("0000000000000001"));
        Object after = ch.readInbound();
        assertThat(after).isNull();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 9, 0x80, 0xff})
    void rejectsBadFlags(int flags) {
        EmbeddedChannel ch = new EmbeddedChannel(new MuxFrameDecoder());
        ByteBuf in = Unpooled.buffer();
        MuxFrameEncoder.writeHeader(in, 0, 0, MuxFrame.Type.KEEPALIVE); // a good frame first
        in.writeBytes(hex("05000000 000000")).writeByte(flags);
        assertThatThrownBy(() -> ch.writeInbound(in))
                .isInstanceOf(DecoderException.class)
                .hasMessage("unknown frame type (flags = " + flags + ") on stream 5: flags must be 0..7");
        MuxFrame first = ch.readInbound();
        assertThat(first.type()).isEqualTo(MuxFrame.Type.KEEPALIVE);
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(MuxFrame.Type.class)
    void roundTripsThroughEncoderAndDecoder(MuxFrame.Type type) {
        MuxFrame frame = type == MuxFrame.Type.DATA ? MuxFrame.data(9, Unpooled.wrappedBuffer(new byte[2000]))
                : MuxFrame.control(type, 9, type == MuxFrame.Type.WINDOW_UPDATE ? 77 : 0);
        EmbeddedChannel enc = new EmbeddedChannel(MuxFrameEncoder.INSTANCE);
        enc.writeOutbound(frame.retain());
        EmbeddedChannel dec = new EmbeddedChannel(new MuxFrameDecoder());
        ByteBuf b;
        while ((b = enc.readOutbound()) != null) {
            // A copy: the large-payload path hands on the frame's own payload buffer.
            dec.writeInbound(Unpooled.copiedBuffer(b));
            b.release();
        }
        MuxFrame back = dec.readInbound();
        assertThat(back).isEqualTo(frame);
        back.release();
        frame.release();
        assertThat(enc.finishAndReleaseAll()).isFalse();
        assertThat(dec.finishAndReleaseAll()).isFalse();
    }

    @Test
    void smallPayloadsAreCopiedSoTheyDoNotPinTheReadBuffer() {
        ByteBuf in = Unpooled.buffer(64 * 1024);
        MuxFrameEncoder.writeHeader(in, 1, 10, MuxFrame.Type.DATA);
        in.writeBytes(new byte[10]);
        List<MuxFrame> frames = decode(in, false);
        assertThat(frames.get(0).content().capacity()).isLessThan(1024);
        assertThat(in.refCnt()).isZero();
        frames.forEach(MuxFrame::release);
    }

    /** The hex dumps in docs/protocol.md, byte for byte. */
    @Test
    void documentedExamples() {
        assertThat(encode(MuxFrame.hello(1, 0xFFFF))).isEqualTo("4d434d5801ffff01");
        assertThat(encode(MuxFrame.hello(1, 0))).isEqualTo("4d434d5801000001");
        assertThat(encode(MuxFrame.hello(1, 0x1234))).isEqualTo("4d434d5801341201");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.OPEN_STREAM, 0))).isEqualTo("0000000000000002");
        assertThat(encode(MuxFrame.data(0, Unpooled.wrappedBuffer(new byte[]{9, 't', 'e', 'l', 'e', 'm', 'e', 't', 'r', 'y'}))))
                .isEqualTo("000000000a000000" + "0974656c656d65747279");
        assertThat(encode(MuxFrame.data(0, Unpooled.wrappedBuffer("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))))
                .isEqualTo("0000000005000000" + "68656c6c6f");
        assertThat(encode(MuxFrame.windowUpdate(0, 15))).isEqualTo("000000000f000006");
        assertThat(encode(MuxFrame.windowUpdate(0, 0x20000))).isEqualTo("0000000000000206");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.CLOSE_READ, 1))).isEqualTo("0100000000000003");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.CLOSE_STREAM, 2))).isEqualTo("0200000000000005");
        assertThat(encode(MuxFrame.control(MuxFrame.Type.CLOSE_MUX, 0))).isEqualTo("0000000000000007");
        assertThat(encode(MuxFrame.keepalive())).isEqualTo("0000000000000001");
    }

    @Test
    void factoriesValidate() {
        assertThatThrownBy(() -> MuxFrame.data(1, Unpooled.buffer(MuxFrame.MAX_DATA + 1).writerIndex(MuxFrame.MAX_DATA + 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("65537");
        assertThatThrownBy(() -> MuxFrame.windowUpdate(1, 0)).hasMessage("credit < 1: 0");
        assertThatThrownBy(() -> MuxFrame.control(MuxFrame.Type.DATA, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> MuxFrame.Type.ofFlags(8)).hasMessage("flags must be 0..7: 8");
    }
}
