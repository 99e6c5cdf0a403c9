package io.mancom.proxy.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;

import java.net.URI;

/**
 * One request as one HTTP/2 stream: writes the request's HEADERS (and DATA) frames, and is the last
 * handler of the stream's pipeline, after Netty's {@code Http2StreamFrameToHttpObjectCodec} and an
 * {@code HttpObjectAggregator}, which turn the response frames into one {@code FullHttpResponse}.
 *
 * <p>When the stream closes without a whole response, the request is sent again if the peer
 * provably did not process it (REFUSED_STREAM, or above a GOAWAY's last stream id) and answered
 * with 502 otherwise. Runs on the connection's loop (a stream channel's loop is its parent's).
 */
final class H2Stream extends ChannelInboundHandlerAdapter {
    private static final AsciiString HTTP = AsciiString.cached("http");
    private static final AsciiString HTTPS = AsciiString.cached("https");

    private final H2Link link;
    private final UpstreamPool pool;
    private final Exchange x;
    private final boolean tls;
    private Http2StreamChannel stream;
    private boolean answered;
    private boolean refused;
    private String failure;

    H2Stream(H2Link link, UpstreamPool pool, Exchange x, boolean tls) {
        this.link = link;
        this.pool = pool;
        this.x = x;
        this.tls = tls;
    }

    ChannelInitializer<Channel> initializer() {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                        new HttpObjectAggregator(pool.config().maxBody()), H2Stream.this);
            }
        };
    }

    /** The stream is open: send the request on it. */
    void start(Http2StreamChannel ch) {
        stream = ch;
        if (x.done) { // timed out or abandoned while the stream opened
            ch.close();
            return;
        }
        x.cancel = ch::close; // a stream channel closing before the response resets the stream
        FullHttpRequest req = x.request;
        boolean body = req.content().isReadable();
        // A write that fails closes the stream; channelInactive then answers the request.
        if (body) {
            ch.write(new DefaultHttp2HeadersFrame(headers(req), false)).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            ch.writeAndFlush(new DefaultHttp2DataFrame(req.content().retainedDuplicate(), true))
                    .addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        } else {
            ch.writeAndFlush(new DefaultHttp2HeadersFrame(headers(req), true)).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }

    private Http2Headers headers(FullHttpRequest req) {
        Http2Headers h = new DefaultHttp2Headers(false);
        h.method(req.method().asciiName()).scheme(tls ? HTTPS : HTTP);
        String uri = req.uri();
        String authority = req.headers().get(HttpHeaderNames.HOST);
        if (uri.startsWith("/") || uri.equals("*")) {
            h.path(uri);
        } else { // absolute form: GET http://host/path
            URI u = URI.create(uri);
            String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
            h.path(u.getRawQuery() == null ? path : path + "?" + u.getRawQuery());
            authority = u.getRawAuthority();
        }
        if (authority != null) {
            h.authority(authority);
        }
        // The rest, lower-cased, without HTTP/1's connection headers (and Host, now :authority).
        HttpConversionUtil.toHttp2Headers(req.headers(), h);
        return h;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof FullHttpResponse r && !answered) {
            answered = true;
            pool.respond(x, r);
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof Http2ResetFrame r) {
            refused = r.errorCode() == Http2Error.REFUSED_STREAM.code();
            failure = "the upstream reset the stream (" + Http2Error.valueOf(r.errorCode()) + ")";
        } else if (evt instanceof Http2GoAwayFrame g) {
            g.release();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        failure = "bad response: " + cause.getMessage();
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        link.streamEnded();
        if (!answered && !x.done) {
            int id = stream == null ? -1 : stream.stream().id();
            if (refused || id < 0 || link.unprocessed(id)) {
                pool.retry(x, failure != null ? failure : "the upstream is going away");
            } else {
                pool.fail(x, HttpResponseStatus.BAD_GATEWAY, failure != null ? failure
                        : "the upstream connection closed before the response");
            }
        }
        super.channelInactive(ctx);
    }
}
