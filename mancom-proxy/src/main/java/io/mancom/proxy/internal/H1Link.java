package io.mancom.proxy.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

/**
 * One keep-alive HTTP/1.1 connection of the pool, carrying one request at a time: the last handler
 * after {@code HttpClientCodec} and an {@code HttpObjectAggregator}. A response that says
 * {@code Connection: close} ends the connection after it; a connection that closes under a
 * request fails it with 502, except an idempotent request on a connection that had served before
 * (the upstream closed it as idle just as the request went out), which is sent again.
 * Runs on the pool's loop only.
 */
final class H1Link extends UpstreamConnection {
    private final String hostHeader;
    private Exchange current;
    private int served;

    H1Link(UpstreamPool pool) {
        super(pool);
        var up = pool.config().upstream();
        this.hostHeader = (up.host().indexOf(':') >= 0 ? "[" + up.host() + "]" : up.host()) + ":" + up.port();
    }

    void install(Channel ch) {
        channel = ch;
        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(pool.config().maxBody()), this);
    }

    @Override
    public int freeSlots() {
        return ready && !lost && !closing && current == null ? 1 : 0;
    }

    @Override
    public void send(Exchange x) {
        current = x;
        x.cancel = () -> { // HTTP/1.1 cannot cancel one request: the connection goes
            closing = true;
            channel.close();
        };
        FullHttpRequest req = x.request.retainedDuplicate();
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        if (!req.headers().contains(HttpHeaderNames.HOST)) {
            req.headers().set(HttpHeaderNames.HOST, hostHeader);
        }
        HttpUtil.setContentLength(req, req.content().readableBytes());
        channel.writeAndFlush(req).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ready = true;
        pool.linkReady(this);
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpResponse r) || current == null) {
            ReferenceCountUtil.release(msg); // nothing was asked: a broken upstream; the close follows
            ctx.close();
            return;
        }
        Exchange x = current;
        current = null;
        served++;
        boolean keepAlive = HttpUtil.isKeepAlive(r);
        pool.attemptEnded();
        if (r.decoderResult().isFailure()) {
            r.release();
            pool.fail(x, HttpResponseStatus.BAD_GATEWAY, "bad response: " + r.decoderResult().cause());
            closing = true;
            ctx.close();
            return;
        }
        pool.respond(x, r);
        if (!keepAlive) {
            closing = true;
            ctx.close();
        } else {
            pool.linkFreed(this);
        }
    }

    @Override
    void endRequests(String why) {
        Exchange x = current;
        current = null;
        if (x != null) {
            pool.attemptEnded();
            if (!x.done && served > 0 && x.idempotent() && failure == null) {
                pool.retry(x, why);
            } else {
                pool.fail(x, HttpResponseStatus.BAD_GATEWAY, "upstream connection lost before the response: " + why);
            }
        }
    }
}
