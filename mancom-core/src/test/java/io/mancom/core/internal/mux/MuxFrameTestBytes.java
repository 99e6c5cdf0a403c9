package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/** Hand-built frame bytes for tests. */
final class MuxFrameTestBytes {

    private MuxFrameTestBytes() {
    }

    /** A Hello from a ManCom initiator that routes by service. */
    static ByteBuf hello() {
        ByteBuf b = Unpooled.buffer(8);
        MuxFrameEncoder.writeHeader(b, MuxFrame.HELLO_ID, MuxFrame.CAP_SERVICE_ROUTING | 0xFFFF << 8,
                MuxFrame.Type.KEEPALIVE);
        return b;
    }
}
