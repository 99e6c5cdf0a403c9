package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * The service-routing preamble: the opener's first bytes on a stream, one byte {@code n}
 * (1..255), then the service name in {@code n} bytes of UTF-8.
 */
final class ServicePreamble {

    static final int MAX_NAME_BYTES = 255;

    private ServicePreamble() {
    }

    /**
     * The preamble for {@code service}.
     *
     * @throws IllegalArgumentException if the name is empty or longer than 255 bytes of UTF-8
     */
    static ByteBuf encode(ByteBufAllocator alloc, String service) {
        byte[] name = validate(service);
        ByteBuf buf = alloc.buffer(1 + name.length);
        buf.writeByte(name.length);
        buf.writeBytes(name);
        return buf;
    }

    static byte[] validate(String service) {
        if (service == null || service.isEmpty()) {
            throw new IllegalArgumentException("service must be named with routing = service: " + service);
        }
        byte[] name = service.getBytes(StandardCharsets.UTF_8);
        if (name.length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("service name longer than " + MAX_NAME_BYTES + " bytes of UTF-8: "
                    + name.length);
        }
        return name;
    }

    /**
     * Takes the preamble off the front of {@code queue} once all of it has arrived.
     *
     * @param queued the bytes in the queue
     * @return the service name and the bytes taken, or {@code null} if the preamble is still
     *         incomplete (nothing is consumed then)
     * @throws IllegalArgumentException if the preamble is malformed (length 0, bad UTF-8)
     */
    static Taken take(ArrayDeque<ByteBuf> queue, int queued) {
        if (queued < 1) {
            return null;
        }
        ByteBuf first = queue.peek();
        int n = first.getUnsignedByte(first.readerIndex());
        if (n == 0) {
            throw new IllegalArgumentException("the service preamble names no service (length byte 0)");
        }
        if (queued < 1 + n) {
            return null;
        }
        byte[] name = new byte[n];
        skip(queue, 1);
        int at = 0;
        while (at < n) {
            ByteBuf b = queue.peek();
            int k = Math.min(n - at, b.readableBytes());
            b.readBytes(name, at, k);
            at += k;
            if (!b.isReadable()) {
                queue.poll().release();
            }
        }
        try {
            return new Taken(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(name)).toString(), 1 + n);
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the service preamble is not valid UTF-8", e);
        }
    }

    /** A preamble taken off a stream: the service name and the bytes it took. */
    record Taken(String service, int bytes) {
    }

    private static void skip(ArrayDeque<ByteBuf> queue, int n) {
        while (n > 0) {
            ByteBuf b = queue.peek();
            int k = Math.min(n, b.readableBytes());
            b.skipBytes(k);
            n -= k;
            if (!b.isReadable()) {
                queue.poll().release();
            }
        }
    }
}
