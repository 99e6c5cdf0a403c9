package io.mancom.core.internal.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The COBS + CRC-32C framer: round trips, escapes, resynchronisation after garbage, bad frames counted. */
class CobsFrameCodecTest {

    private static byte[] encode(byte[] body) {
        EmbeddedChannel ch = new EmbeddedChannel(new CobsFrameEncoder());
        ch.writeOutbound(Unpooled.copiedBuffer(body));
        ByteBuf out = ch.readOutbound();
        byte[] bytes = ByteBufUtil.getBytes(out);
        out.release();
        ch.finishAndReleaseAll();
        return bytes;
    }

    private record Decoded(List<byte[]> frames, LinkCounters counters) {
    }

    private static Decoded decode(byte[] wire, boolean byteByByte) {
        LinkCounters counters = new LinkCounters();
        EmbeddedChannel ch = new EmbeddedChannel(new CobsFrameDecoder(300, counters));
        if (byteByByte) {
            for (byte b : wire) {
                ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{b}));
            }
        } else {
            ch.writeInbound(Unpooled.wrappedBuffer(wire));
        }
        List<byte[]> frames = new ArrayList<>();
        for (ByteBuf b; (b = ch.readInbound()) != null; ) {
            frames.add(ByteBufUtil.getBytes(b));
            b.release();
        }
        ch.finishAndReleaseAll();
        return new Decoded(frames, counters);
    }

    @Test
    void encodesTheWireFormatOfTheDocs() {
        // docs/reliable-link.md: an ACK for frame 5, room up to 0x0105, no SACK.
        byte[] wire = encode(new byte[]{3, 5, 0, 5, 1});
        assertThat(ByteBufUtil.hexDump(wire)).isEqualTo("000303050705012227650400");
    }

    @Test
    void zerosAndLongRunsAreStuffedAndComeBack() {
        Random r = new Random(7);
        for (int n : new int[]{1, 5, 253, 254, 255, 256, 290}) {
            for (int kind = 0; kind < 3; kind++) {
                byte[] body = new byte[n];
                if (kind == 1) {
                    r.nextBytes(body);
                } else if (kind == 2) {
                    java.util.Arrays.fill(body, (byte) 0x7e);
                } // kind 0: all zeros
                byte[] wire = encode(body);
                for (int i = 1; i < wire.length - 1; i++) {
                    assertThat(wire[i]).as("no 0x00 inside a frame").isNotZero();
                }
                assertThat(wire.length).isLessThanOrEqualTo(1 + Cobs.maxEncodedLength(n + 4) + 1);
                for (boolean slow : new boolean[]{false, true}) {
                    Decoded d = decode(wire, slow);
                    assertThat(d.frames()).hasSize(1);
                    assertThat(d.frames().get(0)).isEqualTo(body);
                }
            }
        }
    }

    @Test
    void resynchronisesAfterGarbageAndCountsWhatItDropped() {
        Random r = new Random(42);
        java.io.ByteArrayOutputStream wire = new java.io.ByteArrayOutputStream();
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            byte[] garbage = new byte[r.nextInt(40)];
            r.nextBytes(garbage);
            wire.writeBytes(garbage); // line noise between frames, zeros and all
            byte[] body = new byte[1 + r.nextInt(200)];
            r.nextBytes(body);
            sent.add(body);
            wire.writeBytes(encode(body)); // starts with a delimiter after an idle line... or not
        }
        Decoded d = decode(wire.toByteArray(), false);
        // Every frame survives the noise before it: a delimiter at its end is all a frame needs,
        // and noise ending in a non-zero byte is cut off by the frame's leading delimiter.
        assertThat(d.frames()).hasSameSizeAs(sent);
        for (int i = 0; i < sent.size(); i++) {
            assertThat(d.frames().get(i)).isEqualTo(sent.get(i));
        }
        assertThat(d.counters().crcErrors.sum() + d.counters().badFrames.sum()).isPositive();
        assertThat(d.counters().framesIn.sum()).isEqualTo(200);
    }

    @Test
    void aFlippedBitFailsTheCrcAndOnlyThatFrameIsLost() {
        byte[] a = encode("first".getBytes());
        byte[] b = encode("second".getBytes());
        byte[] c = encode("third".getBytes());
        b[4] ^= 0x10;
        byte[] wire = new byte[a.length + b.length + c.length];
        System.arraycopy(a, 0, wire, 0, a.length);
        System.arraycopy(b, 0, wire, a.length, b.length);
        System.arraycopy(c, 0, wire, a.length + b.length, c.length);
        Decoded d = decode(wire, true);
        assertThat(d.frames()).extracting(String::new).containsExactly("first", "third");
        assertThat(d.counters().crcErrors.sum()).isEqualTo(1);
    }

    @Test
    void aFrameTooLongIsDroppedWithoutBufferingIt() {
        byte[] big = new byte[5000];
        java.util.Arrays.fill(big, (byte) 1);
        byte[] ok = encode("ok".getBytes());
        byte[] wire = new byte[big.length + 1 + ok.length];
        System.arraycopy(big, 0, wire, 0, big.length);
        System.arraycopy(ok, 0, wire, big.length + 1, ok.length);
        Decoded d = decode(wire, false);
        assertThat(d.frames()).extracting(String::new).containsExactly("ok");
        assertThat(d.counters().badFrames.sum()).isEqualTo(1);
        assertThat(d.counters().droppedBytes.sum()).isGreaterThanOrEqualTo(5000);
    }
}
