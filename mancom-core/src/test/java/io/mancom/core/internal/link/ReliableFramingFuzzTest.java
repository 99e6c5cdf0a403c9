package io.mancom.core.internal.link;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mancom.core.internal.mux.TrackingAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Fuzzes the reliable link's framing (docs/reliable-link.md): the COBS frame decoder, the frame
 * parser and the handshake. Seeds: {@code ReliableFramingFuzzTestInputs/<method>/} (docs/fuzzing.md).
 *
 * <p>{@link #decode}: a {@link CobsFrameDecoder} on an {@link EmbeddedChannel}, the line's bytes cut
 * into reads of sizes the input chooses. For any bytes: nothing is thrown; the bodies that come out
 * are exactly those a plain reading of the wire format gives (a model here: cut at each 0x00,
 * COBS-decode, at least 5 bytes, CRC-32C over the body), and each re-encoded by
 * {@link CobsFrameEncoder} decodes to itself; the counters of good, bad and CRC-failed frames match
 * the model; every HELLO body parses and re-encodes to its bytes; every buffer is released.
 * Input: byte 0 the read size (0: all at once), byte 1 the largest body (21..1041); then the line.
 *
 * <p>{@link #handshake}: one side of a link (a dialling leader or a listening follower, byte 0)
 * receives bodies the input chooses, each framed correctly (CRC and COBS), or raw garbage, with time
 * passing between them: HELLOs of any version, size, flags and ids, DATA, ACK, CLOSE and unknown
 * types, before and after the handshake. Nothing may escape the pipeline, and once the side is
 * closed every buffer it made is released. Records: {@code len}: bit 7 set = {@code len & 0x7F} raw
 * bytes, else a body of {@code len} bytes; then one byte of 10 ms steps to let pass.
 */
class ReliableFramingFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void decode(byte[] input) throws Exception {
        if (input.length < 2) {
            return;
        }
        int step = input[0] & 0xFF;
        int maxBody = LinkFrames.DATA_HEADER + 16 + (input[1] & 0xFF) * 4;
        Model model = model(input, 2, maxBody);

        TrackingAllocator alloc = new TrackingAllocator();
        LinkCounters counters = new LinkCounters();
        EmbeddedChannel ch = new EmbeddedChannel(false, false);
        ch.config().setAllocator(alloc);
        ch.pipeline().addLast(new CobsFrameDecoder(maxBody, counters));
        ch.register();
        List<byte[]> got = new ArrayList<>();
        try {
            for (int at = 2; at < input.length; ) {
                int end = step == 0 ? input.length : Math.min(input.length, at + step);
                ch.writeInbound(alloc.copyOf(input, at, end));
                for (ByteBuf b; (b = ch.readInbound()) != null; ) {
                    try {
                        got.add(ByteBufUtil.getBytes(b));
                    } finally {
                        b.release();
                    }
                }
                at = end;
            }
            ch.checkException();
        } finally {
            ch.finishAndReleaseAll();
        }
        if (got.size() != model.bodies.size() || !equal(got, model.bodies)) {
            throw new AssertionError("bodies differ from the model: decoder " + got.size() + ", model " + model.bodies.size());
        }
        if (counters.framesIn.sum() != model.bodies.size() || counters.crcErrors.sum() != model.crcErrors
                || counters.badFrames.sum() != model.bad) {
            throw new AssertionError("counters " + counters + " but model " + model.bodies.size() + " good, "
                    + model.crcErrors + " CRC errors, " + model.bad + " bad");
        }
        for (byte[] body : got) {
            roundTrip(body, maxBody, alloc);
            parse(body, alloc);
        }
        alloc.assertAllReleased("after the bodies were released and the channel finished");
    }

    private static boolean equal(List<byte[]> a, List<byte[]> b) {
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** The encoder's frame of {@code body} decodes to {@code body}. */
    private static void roundTrip(byte[] body, int maxBody, TrackingAllocator alloc) throws Exception {
        EmbeddedChannel enc = new EmbeddedChannel(new CobsFrameEncoder());
        enc.config().setAllocator(alloc);
        LinkCounters counters = new LinkCounters();
        EmbeddedChannel dec = new EmbeddedChannel(false, false);
        dec.config().setAllocator(alloc);
        dec.pipeline().addLast(new CobsFrameDecoder(maxBody, counters));
        dec.register();
        try {
            enc.writeOutbound(alloc.copyOf(body, 0, body.length));
            for (ByteBuf b; (b = enc.readOutbound()) != null; ) {
                dec.writeInbound(b);
            }
            ByteBuf back = dec.readInbound();
            if (back == null) {
                throw new AssertionError("a re-encoded body did not decode: " + counters);
            }
            try {
                if (!Arrays.equals(ByteBufUtil.getBytes(back), body)) {
                    throw new AssertionError("a re-encoded body decoded to other bytes");
                }
            } finally {
                back.release();
            }
        } finally {
            enc.finishAndReleaseAll();
            dec.finishAndReleaseAll();
        }
    }

    /** A HELLO body parses (or is refused as too short or without the magic) and re-encodes to its bytes. */
    private static void parse(byte[] body, TrackingAllocator alloc) {
        if (body[0] != LinkFrames.HELLO) {
            return;
        }
        ByteBuf b = alloc.copyOf(body, 0, body.length);
        try {
            b.skipBytes(1);
            LinkFrames.Hello h = LinkFrames.Hello.decode(b);
            boolean helloShaped = body.length >= LinkFrames.HELLO_LENGTH
                    && (body[1] & 0xFF | (body[2] & 0xFF) << 8 | (body[3] & 0xFF) << 16 | (body[4] & 0xFF) << 24) == LinkFrames.MAGIC;
            if ((h != null) != helloShaped) {
                throw new AssertionError("HELLO decoded " + h + " but shaped " + helloShaped);
            }
            if (h != null) {
                ByteBuf again = h.encode(alloc);
                try {
                    if (!Arrays.equals(ByteBufUtil.getBytes(again), Arrays.copyOf(body, LinkFrames.HELLO_LENGTH))) {
                        throw new AssertionError("HELLO " + h + " re-encodes to other bytes");
                    }
                } finally {
                    again.release();
                }
            }
        } finally {
            b.release();
        }
    }

    private record Model(List<byte[]> bodies, int crcErrors, int bad) {
    }

    /** The wire format read plainly: frames end at 0x00; what follows the last one is incomplete. */
    private static Model model(byte[] in, int from, int maxBody) {
        List<byte[]> bodies = new ArrayList<>();
        int crcErrors = 0;
        int bad = 0;
        int maxEncoded = (maxBody + 4) + (maxBody + 4) / 254 + 1;
        int start = from;
        for (int i = from; i < in.length; i++) {
            if (in[i] != 0) {
                continue;
            }
            int n = i - start;
            int s = start;
            start = i + 1;
            if (n == 0) {
                continue;
            }
            if (n > maxEncoded) {
                bad++;
                continue;
            }
            byte[] decoded = cobsDecode(in, s, n);
            if (decoded == null || decoded.length < 5) {
                bad++;
                continue;
            }
            int len = decoded.length - 4;
            CRC32C crc = new CRC32C();
            crc.update(decoded, 0, len);
            int sent = decoded[len] & 0xFF | (decoded[len + 1] & 0xFF) << 8 | (decoded[len + 2] & 0xFF) << 16
                    | (decoded[len + 3] & 0xFF) << 24;
            if ((int) crc.getValue() != sent) {
                crcErrors++;
                continue;
            }
            bodies.add(Arrays.copyOf(decoded, len));
        }
        return new Model(bodies, crcErrors, bad);
    }

    /** COBS decoding as Cheshire and Baker define it, or null if {@code in[s, s + n)} is no encoding. */
    private static byte[] cobsDecode(byte[] in, int s, int n) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < n) {
            int code = in[s + i] & 0xFF;
            i++;
            if (i + code - 1 > n) {
                return null;
            }
            out.write(in, s + i, code - 1);
            i += code - 1;
            if (code != 0xFF && i < n) {
                out.write(0);
            }
        }
        return out.toByteArray();
    }

    @FuzzTest(maxDuration = "60s")
    void handshake(byte[] input) {
        if (input.length < 1) {
            return;
        }
        LinkSettings settings = LinkSettings.DEFAULTS.withReliable(true).withWindow(8);
        TrackingAllocator alloc = new TrackingAllocator();
        try (LossyPair p = new LossyPair(1, settings)) {
            LossyPair.Side side = (input[0] & 1) == 0 ? p.a : p.b;
            side.link.config().setAllocator(alloc);
            for (ByteBuf b; (b = side.link.readOutbound()) != null; ) {
                b.release(); // the HELLO it sent before the allocator was set
            }
            CRC32C crc = new CRC32C();
            for (int at = 1; at < input.length && side.link.isOpen(); ) {
                int len = input[at++] & 0xFF;
                int n = Math.min(len & 0x7F, input.length - at);
                ByteBuf chunk;
                if ((len & 0x80) != 0 || n == 0) {
                    chunk = alloc.copyOf(input, at, at + n);
                } else {
                    crc.reset();
                    crc.update(input, at, n);
                    ByteBuf framed = alloc.buffer(n + 4).writeBytes(input, at, n).writeIntLE((int) crc.getValue());
                    chunk = alloc.buffer(n + 4 + 3);
                    Cobs.encode(framed, 0, n + 4, chunk);
                    chunk.writeByte(0);
                    framed.release();
                }
                at += n;
                side.link.writeInbound(chunk);
                int wait = at < input.length ? input[at++] & 0xFF : 0;
                run(p, side, wait);
            }
            side.link.checkException();
            side.home.checkException();
            if (side.upper != null) {
                ReliableSession s = ((LinkChannel) side.upper).session();
                s.run(() -> s.end(null, false));
                side.home.runPendingTasks();
            }
            side.link.close();
            run(p, side, 0);
            for (ByteBuf b; (b = side.link.readOutbound()) != null; ) {
                b.release();
            }
        }
        alloc.assertAllReleased("after the side was closed");
    }

    /** Runs both loops and lets {@code steps} x 10 ms pass, 10 ms at a time; what the side sends is dropped. */
    private static void run(LossyPair p, LossyPair.Side side, int steps) {
        for (int i = 0; i <= steps; i++) {
            side.link.runPendingTasks();
            side.link.runScheduledPendingTasks();
            side.home.runPendingTasks();
            side.home.runScheduledPendingTasks();
            for (ByteBuf b; (b = side.link.readOutbound()) != null; ) {
                b.release();
            }
            if (i < steps) {
                p.ticker.advance(10, TimeUnit.MILLISECONDS);
            }
        }
    }
}
