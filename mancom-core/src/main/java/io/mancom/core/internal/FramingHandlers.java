package io.mancom.core.internal;

import io.mancom.ManComException;
import io.mancom.core.internal.config.Framing;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.TooLongFrameException;

/**
 * Puts a service's {@link Framing} in front of the connection handler, with Netty's own codecs:
 * {@link LineBasedFrameDecoder} (the newline stays with the message; writers add their own), or
 * {@link LengthFieldBasedFrameDecoder} (the prefix is stripped) with {@link LengthFieldPrepender}
 * (each write becomes one message). A message over {@code max-length} closes the connection with a
 * {@link ManComException} (PROTOCOL) that names the service and the limit.
 *
 * <p>Called on the channel's event loop when the runtime adds its connection handler; each
 * channel gets its own (stateful) decoders. Stateless itself.
 */
final class FramingHandlers {
    static final String DECODER = "mancom-framing";
    static final String ENCODER = "mancom-framing-prepender";
    static final String LIMIT = "mancom-framing-limit";

    private FramingHandlers() {
    }

    /** Adds the handlers {@code framing} needs at the end of {@code p} (nothing for none). */
    static void addTo(ChannelPipeline p, Framing framing, String service) {
        switch (framing.kind()) {
            case NONE -> {
                return;
            }
            case LINES -> p.addLast(DECODER, new LineBasedFrameDecoder(framing.maxLength(), false, true));
            case LENGTH_FIELD -> {
                int n = framing.lengthField();
                // The limit counts the prefix too.
                p.addLast(DECODER, new LengthFieldBasedFrameDecoder(Integer.MAX_VALUE >= (long) framing.maxLength() + n
                        ? framing.maxLength() + n : Integer.MAX_VALUE, 0, n, 0, n));
                p.addLast(ENCODER, new Prepender(n));
            }
        }
        p.addLast(LIMIT, new TooLong(service, framing));
    }

    /**
     * {@link LengthFieldPrepender} that lets empty buffers through: the runtime writes one to learn
     * when every earlier write is out (close, shutdownOutput), and it must not become an empty
     * message. So an empty write sends nothing, as without framing.
     */
    private static final class Prepender extends LengthFieldPrepender {
        Prepender(int lengthFieldLength) {
            super(lengthFieldLength);
        }

        @Override
        public boolean acceptOutboundMessage(Object msg) throws Exception {
            return super.acceptOutboundMessage(msg) && ((ByteBuf) msg).isReadable();
        }
    }

    /** Turns the codecs' {@link TooLongFrameException} into a cause a user can act on. */
    private static final class TooLong extends ChannelInboundHandlerAdapter {
        private final String service;
        private final Framing framing;

        TooLong(String service, Framing framing) {
            this.service = service;
            this.framing = framing;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof TooLongFrameException) {
                String what = framing.kind() == Framing.Kind.LINES ? "a line" : "a message";
                cause = new ManComException(ManComException.Reason.PROTOCOL, "service '" + service + "': the peer sent "
                        + what + " longer than framing.max-length (" + framing.maxLength() + " bytes); closing the"
                        + " connection (" + cause.getMessage() + ")", cause);
            }
            ctx.fireExceptionCaught(cause);
        }
    }
}
