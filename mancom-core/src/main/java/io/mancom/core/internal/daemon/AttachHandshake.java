package io.mancom.core.internal.daemon;

import io.mancom.ManComException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * The process's half of the attach handshake (docs/daemon.md, "Attach"): sends the upgrade
 * request when the Unix connection is active, reads the daemon's answer and tells
 * {@link Outcome} — with the bytes that followed the head, which already belong to the
 * protocol that takes over. Bounded: a head or error body over {@link AttachResponse#MAX_HEAD}
 * is a protocol error.
 *
 * <p>One per attach connection, first in its pipeline; runs on its event loop and removes
 * itself once the answer is in.
 */
final class AttachHandshake extends ChannelInboundHandlerAdapter {
    private static final byte[] END_OF_HEAD = {'\r', '\n', '\r', '\n'};

    /** What became of the handshake. Called on the connection's event loop, once. */
    interface Outcome {
        /** The daemon switched protocols; {@code rest} (owned by the callee) followed the head. */
        void attached(ChannelHandlerContext ctx, AttachResponse response, ByteBuf rest);

        /** The daemon refused, or the answer was not understood. */
        void failed(ManComException cause);
    }

    private final String service;
    private final String style;
    private final Outcome outcome;
    private ByteBuf received;
    private AttachResponse head;
    private boolean done;

    AttachHandshake(String service, String style, Outcome outcome) {
        this.service = service;
        this.style = style;
        this.outcome = outcome;
    }

    /** The request bytes for {@code service}. */
    static byte[] request(String service, String style) {
        String path = "/v1/services/" + URLEncoder.encode(service, StandardCharsets.UTF_8).replace("+", "%20") + "/attach";
        return ("POST " + path + " HTTP/1.1\r\n"
                + "Host: mancomd\r\n"
                + "Upgrade: mancom-attach/1\r\n"
                + "Connection: Upgrade\r\n"
                + "ManCom-Style: " + style + "\r\n"
                + "Content-Length: 0\r\n\r\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        received = ctx.alloc().heapBuffer(512);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (received != null) {
            received.release();
            received = null;
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.wrappedBuffer(request(service, style)));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done || !(msg instanceof ByteBuf in)) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        try {
            received.writeBytes(in);
        } finally {
            in.release();
        }
        try {
            step(ctx);
        } catch (ManComException e) {
            finish(ctx);
            outcome.failed(e);
            ctx.close();
        }
    }

    private void step(ChannelHandlerContext ctx) throws ManComException {
        if (head == null) {
            int end = ByteBufUtil.indexOf(Unpooled.wrappedBuffer(END_OF_HEAD), received);
            if (end < 0) {
                if (received.readableBytes() > AttachResponse.MAX_HEAD) {
                    throw AttachResponse.protocol("more than " + AttachResponse.MAX_HEAD + " bytes without the end of a head");
                }
                return;
            }
            byte[] bytes = new byte[end - received.readerIndex()];
            received.readBytes(bytes);
            received.skipBytes(END_OF_HEAD.length);
            head = AttachResponse.parseHead(bytes);
            if (head.status() == 101) {
                ByteBuf rest = received;
                received = null;
                finish(ctx);
                outcome.attached(ctx, head, rest);
                return;
            }
        }
        int length = head.contentLength();
        if (received.readableBytes() < length) {
            return;
        }
        String body = received.toString(received.readerIndex(), length, StandardCharsets.UTF_8);
        finish(ctx);
        outcome.failed(head.withBody(body).refusal(service));
        ctx.close();
    }

    private void finish(ChannelHandlerContext ctx) {
        done = true;
        ctx.pipeline().remove(this);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            done = true;
            outcome.failed(new ManComException(ManComException.Reason.CLOSED,
                    "the ManCom daemon closed the connection before it answered the attach of service '" + service + "'"));
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!done) {
            done = true;
            outcome.failed(new ManComException(ManComException.Reason.IO,
                    "attaching service '" + service + "' to the ManCom daemon failed: " + cause, cause));
        }
        ctx.close();
    }
}
