package io.mancom.core.internal.sniff;

import io.netty.buffer.ByteBuf;

/**
 * A connection's first bytes as the matchers see them: a view of at most {@code sniff.max-bytes}
 * and the ClientHello read from them, parsed once for every tls rule. One per decision; loop-only.
 */
final class FirstBytes {
    private final ByteBuf bytes;
    private final int limit;
    private ClientHello hello;

    /** @param bytes the bytes so far (not consumed, not retained) */
    FirstBytes(ByteBuf bytes, int limit) {
        this.bytes = bytes;
        this.limit = limit;
    }

    ByteBuf bytes() {
        return bytes;
    }

    ClientHello clientHello() {
        if (hello == null) {
            hello = ClientHello.parse(bytes, limit);
        }
        return hello;
    }
}
