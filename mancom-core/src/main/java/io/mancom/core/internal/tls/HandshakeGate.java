package io.mancom.core.internal.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;

import java.nio.channels.ClosedChannelException;
import java.util.function.Consumer;

/**
 * Stands behind the TLS handler until the handshake is over: on success it leaves the pipeline
 * and hands the channel to the runtime ({@code open}); on failure (an alert, a timeout, not TLS at
 * all, the peer leaving) it reports once and closes the channel. Until then nothing reaches the
 * pipeline's tail: exceptions and the TLS events stop here. One instance per channel; runs on the
 * channel's event loop.
 */
final class HandshakeGate extends ChannelInboundHandlerAdapter {
    static final String NAME = "mancom-tls-gate";

    private final Runnable open;
    private final Consumer<Throwable> failed;
    private boolean over;

    HandshakeGate(Runnable open, Consumer<Throwable> failed) {
        this.open = open;
        this.failed = failed;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent e) {
            if (e.isSuccess()) {
                if (!over) {
                    over = true;
                    ctx.pipeline().remove(this);
                    // The runtime's handlers go in now, still inside the TLS handler's read: data
                    // that came with the last handshake flight reaches them, not the tail.
                    open.run();
                }
            } else {
                fail(ctx, e.cause());
            }
        } else if (evt instanceof SniCompletionEvent e) {
            if (!e.isSuccess()) {
                fail(ctx, e.cause());
            }
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        // TLS hands on no data before the handshake ends; if something does, it is not ours to keep.
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, new ClosedChannelException());
    }

    private void fail(ChannelHandlerContext ctx, Throwable cause) {
        if (over) {
            return;
        }
        over = true;
        ctx.close();
        failed.accept(cause);
    }
}
