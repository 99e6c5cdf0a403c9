package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;

import java.util.Objects;

/**
 * One frame of the ManCom mux protocol (the gomux framing): an 8-byte header and, for
 * {@link Type#DATA} only, a payload. {@link MuxFrameDecoder} produces them, {@link MuxFrameEncoder}
 * writes them; the wire layout is drawn in {@link MuxFrameDecoder}.
 *
 * <h2>Fields</h2>
 * {@link #streamId()} is the header's uint32 id, kept as its raw 32 bits in an {@code int} (use
 * {@link #unsignedStreamId()} to print or compare it). {@link #length()} is the header's uint24
 * length: the payload size of a Data frame, the credit of a WindowUpdate, the capabilities and
 * tie-breaker of a Hello, and 0 (ignored) otherwise.
 *
 * <h2>Reference counting</h2>
 * A frame is a {@link io.netty.buffer.ByteBufHolder}: a Data frame owns its payload, and whoever
 * holds the frame releases it once ({@code frame.release()} or
 * {@link io.netty.util.ReferenceCountUtil#release}). Control frames hold an empty buffer, for which
 * release is a no-op, so code may release every frame without looking at its type.
 *
 * <h2>Thread safety</h2>
 * Immutable apart from the reference count; may be passed between threads like any
 * {@link ByteBuf}.
 */
public final class MuxFrame extends DefaultByteBufHolder {

    /** Bytes in a frame header. */
    public static final int HEADER_SIZE = 8;
    /** The largest Data payload (and the initial credit of each stream, each way). */
    public static final int MAX_DATA = 65536;
    /** The largest value of the uint24 length field. */
    public static final int MAX_LENGTH = 0xFF_FFFF;
    /** The id of a Hello: a Keepalive carrying the bytes {@code M C M X} as its id. */
    public static final int HELLO_ID = 0x584D434D;
    /** Hello capability bit 0: the side speaks service routing (a name preamble on every stream). */
    public static final int CAP_SERVICE_ROUTING = 1;

    /** The frame types, which the header's {@code flags} byte carries. */
    public enum Type {
        /** {@code length} bytes of data for the stream. */
        DATA,
        /** Nothing; proves the peer is alive. With id {@link #HELLO_ID} it is a Hello. */
        KEEPALIVE,
        /** The sender opened the stream. */
        OPEN_STREAM,
        /** The receiver's read side is done: the sender finished writing. */
        CLOSE_READ,
        /** The receiver's write side is done: the sender stopped reading. */
        CLOSE_WRITE,
        /** The sender closed the stream entirely. */
        CLOSE_STREAM,
        /** The receiver may send {@code length} more bytes on the stream. */
        WINDOW_UPDATE,
        /** The sender is ending the session. */
        CLOSE_MUX;

        private static final Type[] BY_FLAGS = values();

        /** The value of the header's flags byte for this type. */
        public int flags() {
            return ordinal();
        }

        /**
         * The type a flags byte names.
         *
         * @throws IllegalArgumentException if {@code flags} is not 0..7
         */
        public static Type ofFlags(int flags) {
            if (flags < 0 || flags >= BY_FLAGS.length) {
                throw new IllegalArgumentException("flags must be 0..7: " + flags);
            }
            return BY_FLAGS[flags];
        }
    }

    private final int streamId;
    private final Type type;
    private final int length;

    private MuxFrame(int streamId, Type type, int length, ByteBuf content) {
        super(content);
        this.streamId = streamId;
        this.type = type;
        this.length = length;
    }

    /**
     * A Data frame carrying all readable bytes of {@code payload}; the frame takes ownership of it.
     *
     * @throws IllegalArgumentException if the payload is longer than {@link #MAX_DATA} (the payload
     *                                  is released)
     */
    public static MuxFrame data(int streamId, ByteBuf payload) {
        Objects.requireNonNull(payload, "payload");
        int n = payload.readableBytes();
        if (n > MAX_DATA) {
            payload.release();
            throw new IllegalArgumentException("payload.readableBytes() > " + MAX_DATA + ": " + n);
        }
        return new MuxFrame(streamId, Type.DATA, n, payload);
    }

    /**
     * A frame without payload: any type but {@link Type#DATA}.
     *
     * @param length the header's length field, 0..{@link #MAX_LENGTH} (the credit of a WindowUpdate)
     */
    public static MuxFrame control(Type type, int streamId, int length) {
        Objects.requireNonNull(type, "type");
        if (type == Type.DATA) {
            throw new IllegalArgumentException("type == DATA: use MuxFrame.data");
        }
        if (length < 0 || length > MAX_LENGTH) {
            throw new IllegalArgumentException("length must be 0.." + MAX_LENGTH + ": " + length);
        }
        return new MuxFrame(streamId, type, length, Unpooled.EMPTY_BUFFER);
    }

    /** A frame without payload and with length 0. */
    public static MuxFrame control(Type type, int streamId) {
        return control(type, streamId, 0);
    }

    /** WindowUpdate granting {@code credit} (1..{@link #MAX_LENGTH}) more bytes on the stream. */
    public static MuxFrame windowUpdate(int streamId, int credit) {
        if (credit < 1) {
            throw new IllegalArgumentException("credit < 1: " + credit);
        }
        return control(Type.WINDOW_UPDATE, streamId, credit);
    }

    /** A plain Keepalive (id 0, length 0). */
    public static MuxFrame keepalive() {
        return control(Type.KEEPALIVE, 0, 0);
    }

    /**
     * A Hello: a Keepalive with id {@link #HELLO_ID} whose length carries the capabilities in bits
     * 0..7 and the role tie-breaker in bits 8..23.
     */
    public static MuxFrame hello(int capabilities, int tieBreak) {
        if ((capabilities & ~0xFF) != 0) {
            throw new IllegalArgumentException("capabilities must fit 8 bits: " + capabilities);
        }
        if ((tieBreak & ~0xFFFF) != 0) {
            throw new IllegalArgumentException("tieBreak must fit 16 bits: " + tieBreak);
        }
        return control(Type.KEEPALIVE, HELLO_ID, capabilities | tieBreak << 8);
    }

    /** The stream id's raw 32 bits (the wire value is unsigned). */
    public int streamId() {
        return streamId;
    }

    /** The stream id as the unsigned number the wire carries. */
    public long unsignedStreamId() {
        return Integer.toUnsignedLong(streamId);
    }

    /** The frame type. */
    public Type type() {
        return type;
    }

    /** The header's length field (for Data, the payload size). */
    public int length() {
        return length;
    }

    /** Whether this is a Hello (a Keepalive with id {@link #HELLO_ID}). */
    public boolean isHello() {
        return type == Type.KEEPALIVE && streamId == HELLO_ID;
    }

    /** A Hello's capability bits (meaningful only if {@link #isHello()}). */
    public int helloCapabilities() {
        return length & 0xFF;
    }

    /** A Hello's tie-breaker (meaningful only if {@link #isHello()}). */
    public int helloTieBreak() {
        return length >>> 8;
    }

    @Override
    public MuxFrame copy() {
        return replace(content().copy());
    }

    @Override
    public MuxFrame duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public MuxFrame retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public MuxFrame replace(ByteBuf content) {
        if (type != Type.DATA) {
            // A control frame's content is always the shared empty buffer.
            content.release();
            return new MuxFrame(streamId, type, length, Unpooled.EMPTY_BUFFER);
        }
        return data(streamId, content);
    }

    @Override
    public MuxFrame retain() {
        super.retain();
        return this;
    }

    @Override
    public MuxFrame retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public MuxFrame touch() {
        super.touch();
        return this;
    }

    @Override
    public MuxFrame touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof MuxFrame f)) {
            return false;
        }
        return streamId == f.streamId && type == f.type && length == f.length && content().equals(f.content());
    }

    @Override
    public int hashCode() {
        return Objects.hash(streamId, type, length, content());
    }

    @Override
    public String toString() {
        if (isHello()) {
            return "Hello(caps=" + helloCapabilities() + ", tieBreak=" + helloTieBreak() + ")";
        }
        return type + "(stream " + unsignedStreamId() + ", length " + length + ")";
    }
}
