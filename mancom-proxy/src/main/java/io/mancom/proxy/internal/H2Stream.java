package io.mancom.proxy.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;

import java.net.URI;
import java.util.Map;

/**
 * One request as one HTTP/2 stream: writes the request's HEADERS (and DATA) frames, and is the
 * stream channel's handler, turning the response's frames into one {@code FullHttpResponse} (its
 * body bounded by {@code http-max-body}).
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
    private HttpResponseStatus status;
    private HttpHeaders headers;
    private CompositeByteBuf body;
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
                ch.pipeline().addLast(H2Stream.this);
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

    /*
     * The response frames become one FullHttpResponse here rather than through Netty's
     * Http2StreamFrameToHttpObjectCodec and an HttpObjectAggregator: the same result with one
     * header copy and no intermediate messages (bench proxy: a few percent of the proxy's CPU).
     * Trailers are dropped: an HTTP/1.1 response with Content-Length has no place for them.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (answered) {
                return;
            }
            if (msg instanceof Http2HeadersFrame f) {
                if (status == null) {
                    CharSequence code = f.headers().status();
                    HttpResponseStatus st = code == null ? null : HttpResponseStatus.parseLine(code);
                    if (st == null) {
                        throw new IllegalStateException("a response without :status");
                    }
                    if (st.codeClass() == HttpStatusClass.INFORMATIONAL) {
                        return; // 100 Continue and the like: the client's aggregator has answered those
                    }
                    status = st;
                    headers = new DefaultHttpHeaders(false);
                    for (Map.Entry<CharSequence, CharSequence> e : f.headers()) {
                        if (e.getKey().length() > 0 && e.getKey().charAt(0) != ':') {
                            headers.add(e.getKey(), e.getValue());
                        }
                    }
                }
                if (f.isEndStream()) {
                    complete(ctx);
                }
            } else if (msg instanceof Http2DataFrame f) {
                if (status == null) {
                    throw new IllegalStateException("DATA before the response's HEADERS");
                }
                ByteBuf data = f.content();
                if (body == null) {
                    body = ctx.alloc().compositeBuffer();
                }
                if (body.readableBytes() + data.readableBytes() > pool.config().maxBody()) {
                    throw new IllegalStateException("response body over http-max-body (" + pool.config().maxBody() + " bytes)");
                }
                if (data.isReadable()) {
                    body.addComponent(true, data.retain());
                }
                if (f.isEndStream()) {
                    complete(ctx);
                }
            }
        } catch (RuntimeException e) {
            exceptionCaught(ctx, e);
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void complete(ChannelHandlerContext ctx) {
        answered = true;
        ByteBuf content = body != null ? body : Unpooled.EMPTY_BUFFER;
        body = null;
        pool.respond(x, new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content, headers,
                EmptyHttpHeaders.INSTANCE));
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
        if (body != null) {
            body.release();
            body = null;
        }
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
