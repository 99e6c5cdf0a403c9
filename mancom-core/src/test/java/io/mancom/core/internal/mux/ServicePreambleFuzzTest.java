package io.mancom.core.internal.mux;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Fuzzes the service preamble: {@link ServicePreamble#take} on the bytes of a stream split into
 * buffers as the input chooses. What must hold:
 * <ul>
 *   <li>it returns nothing (and consumes nothing) until {@code 1 + n} bytes are there, then the
 *       name and {@code 1 + n}; or it throws {@link IllegalArgumentException} (length 0, bad UTF-8);
 *       nothing else;</li>
 *   <li>a name it returns is the UTF-8 of the bytes, and encodes back to the same preamble;</li>
 *   <li>the bytes after the preamble stay in the queue, in order; taken buffers are released.</li>
 * </ul>
 * Input: byte 0 is the size of each queued buffer (0: one buffer), the rest the stream's first
 * bytes. Seeds: {@code ServicePreambleFuzzTestInputs/take/} (docs/fuzzing.md).
 */
class ServicePreambleFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void take(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int step = input[0] & 0xFF;
        byte[] stream = Arrays.copyOfRange(input, 1, input.length);
        TrackingAllocator alloc = new TrackingAllocator();
        ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
        for (int at = 0; at < stream.length; ) {
            int end = step == 0 ? stream.length : Math.min(stream.length, at + step);
            queue.add(alloc.copyOf(stream, at, end));
            at = end;
        }
        try {
            check(stream, queue, alloc);
        } finally {
            queue.forEach(ByteBuf::release);
        }
        alloc.assertAllReleased("after the queue was released");
    }

    private static void check(byte[] stream, ArrayDeque<ByteBuf> queue, TrackingAllocator alloc) {
        int n = stream.length == 0 ? -1 : stream[0] & 0xFF;
        ServicePreamble.Taken taken;
        try {
            taken = ServicePreamble.take(queue, stream.length);
        } catch (IllegalArgumentException e) {
            if (n != 0 && (stream.length < 1 + n || validUtf8(stream, n))) {
                throw new AssertionError("refused a preamble that is neither empty nor bad UTF-8", e);
            }
            return;
        }
        if (taken == null) {
            if (stream.length >= 1 + Math.max(n, 1)) {
                throw new AssertionError("a complete preamble of " + n + " bytes was not taken");
            }
            if (remaining(queue) != stream.length) {
                throw new AssertionError("an incomplete preamble consumed bytes");
            }
            return;
        }
        if (n == 0 || taken.bytes() != 1 + n || !validUtf8(stream, n)) {
            throw new AssertionError("took " + taken + " from a preamble of length byte " + n);
        }
        byte[] name = Arrays.copyOfRange(stream, 1, 1 + n);
        if (!Arrays.equals(taken.service().getBytes(StandardCharsets.UTF_8), name)) {
            throw new AssertionError("the name '" + taken.service() + "' is not the bytes received");
        }
        ByteBuf again = ServicePreamble.encode(alloc, taken.service());
        try {
            if (again.readableBytes() != 1 + n || again.getUnsignedByte(0) != n) {
                throw new AssertionError("'" + taken.service() + "' encodes to another preamble");
            }
        } finally {
            again.release();
        }
        byte[] rest = new byte[remaining(queue)];
        int at = 0;
        for (ByteBuf b : queue) {
            b.getBytes(b.readerIndex(), rest, at, b.readableBytes());
            at += b.readableBytes();
        }
        if (!Arrays.equals(rest, Arrays.copyOfRange(stream, 1 + n, stream.length))) {
            throw new AssertionError("the bytes after the preamble changed");
        }
    }

    private static int remaining(ArrayDeque<ByteBuf> queue) {
        return queue.stream().mapToInt(ByteBuf::readableBytes).sum();
    }

    private static boolean validUtf8(byte[] stream, int n) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(stream, 1, n));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }
}
