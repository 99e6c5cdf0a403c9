package io.mancom.core.internal.mux;

import io.netty.handler.codec.CorruptedFrameException;

/**
 * The peer broke the mux protocol: an oversize Data frame, an unknown frame type, a flow-control
 * violation, a duplicate or wrong-parity OpenStream. The message says what was received and what
 * is allowed, and names the stream where there is one.
 *
 * <p>{@link MuxFrameDecoder} throws it from the pipeline (it is a
 * {@link io.netty.handler.codec.DecoderException}, so Netty passes it on unwrapped);
 * {@link MuxSessionHandler} ends the session on it and reports it to the streams and to
 * {@link MuxSessionHandler#terminationFuture()} as a {@link io.mancom.ManComException} of reason
 * {@link io.mancom.ManComException.Reason#PROTOCOL} with the same message.
 */
public final class MuxProtocolException extends CorruptedFrameException {

    public MuxProtocolException(String message) {
        super(message);
    }
}
