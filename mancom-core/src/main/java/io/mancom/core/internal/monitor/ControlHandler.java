package io.mancom.core.internal.monitor;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The routes of a control socket, one HTTP/1.1 connection per instance:
 *
 * <pre>
 * GET /status   the {@link io.mancom.ManComStatus} as JSON
 * GET /metrics  the Prometheus text exposition ({@link Metrics})
 * GET /events   Server-Sent Events: one "data: {json}" per open, close, error, reconnect
 * GET /         the live page (from the jar, no CDN): the table and a throughput plot per service
 * </pre>
 *
 * Read-only: anything but GET is 405. {@code /status} and {@code /metrics} are built on the
 * runtime's blocking executor, not on the event loop, so a runtime with many thousand channels
 * keeps moving bytes while it answers. Once a connection asks for {@code /events} it carries only
 * that stream until the client leaves. Runs on the connection's event loop.
 */
final class ControlHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(ControlHandler.class);
    private static final String PAGE = "/io/mancom/core/internal/monitor/index.html";
    /** The live pages' shared script (formatting, rates, plots), inlined where a page has {@link #SCRIPT_MARK}. */
    private static final String SCRIPT = "/io/mancom/core/internal/monitor/live.js";
    private static final String SCRIPT_MARK = "/*LIVE_JS*/";
    private static volatile byte[] page;

    private final Monitor monitor;
    private final Metrics metrics;
    private final Executor executor;
    private SseSubscriber subscriber;

    ControlHandler(Monitor monitor, Metrics metrics, Executor executor) {
        this.monitor = monitor;
        this.metrics = metrics;
        this.executor = executor;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (subscriber != null) {
            return; // an event stream carries nothing else
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!req.decoderResult().isSuccess()) {
            text(ctx, false, HttpResponseStatus.BAD_REQUEST, "bad request\n");
            return;
        }
        if (!req.method().equals(HttpMethod.GET)) {
            FullHttpResponse r = response(HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                    "read-only: GET /status, /metrics, /events or /\n".getBytes(StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.ALLOW, "GET");
            send(ctx, keepAlive, r);
            return;
        }
        String path = new QueryStringDecoder(req.uri()).path();
        switch (path) {
            case "/status" -> offLoop(ctx, keepAlive, "application/json", () -> Json.status(monitor.status(), monitor.refusals()) + "\n");
            case "/metrics" -> offLoop(ctx, keepAlive, Metrics.CONTENT_TYPE, metrics::scrape);
            case "/events" -> events(ctx);
            case "/", "/index.html" -> send(ctx, keepAlive,
                    response(HttpResponseStatus.OK, "text/html; charset=utf-8", page()));
            default -> text(ctx, keepAlive, HttpResponseStatus.NOT_FOUND,
                    "no such route: " + path + " (try /status, /metrics, /events or /)\n");
        }
    }

    /** Builds the body on the blocking executor and sends it from there. */
    private void offLoop(ChannelHandlerContext ctx, boolean keepAlive, String type, Supplier<String> body) {
        try {
            executor.execute(() -> {
                FullHttpResponse r;
                try {
                    r = response(HttpResponseStatus.OK, type, body.get().getBytes(StandardCharsets.UTF_8));
                } catch (RuntimeException e) {
                    log.warn("control socket: building the answer failed", e);
                    r = response(HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
                            (e + "\n").getBytes(StandardCharsets.UTF_8));
                }
                send(ctx, keepAlive, r);
            });
        } catch (RejectedExecutionException e) {
            text(ctx, false, HttpResponseStatus.SERVICE_UNAVAILABLE, "the runtime is closing\n");
        }
    }

    private void events(ChannelHandlerContext ctx) {
        // Subscribed before anything is written: a client that has the headers misses no event.
        // Events offered meanwhile are drained by a task on this loop, after the headers.
        SseSubscriber s = new SseSubscriber(ctx.channel());
        subscriber = s;
        EventHub hub = monitor.hub();
        hub.subscribe(s);
        ctx.channel().closeFuture().addListener(f -> hub.unsubscribe(s));
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        HttpUtil.setTransferEncodingChunked(r, true);
        ctx.write(r);
        s.hello();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (subscriber != null && ctx.channel().isWritable()) {
            subscriber.drain();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("control socket client failed: {}", cause.toString());
        ctx.close();
    }

    private static void text(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String body) {
        send(ctx, keepAlive, response(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8)));
    }

    private static FullHttpResponse response(HttpResponseStatus status, String type, byte[] body) {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        HttpUtil.setContentLength(r, body.length);
        return r;
    }

    private static void send(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse r) {
        if (keepAlive) {
            HttpUtil.setKeepAlive(r, true);
            ctx.writeAndFlush(r);
        } else {
            HttpUtil.setKeepAlive(r, false);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The page with the shared script ({@link #SCRIPT}, also inlined by {@code mancom status --web}) in place. */
    private static byte[] page() {
        byte[] p = page;
        if (p == null) {
            try {
                p = resource(PAGE).replace(SCRIPT_MARK, resource(SCRIPT)).getBytes(StandardCharsets.UTF_8);
            } catch (IOException e) {
                p = ("<p>cannot read the page: " + e + "</p>").getBytes(StandardCharsets.UTF_8);
            }
            page = p;
        }
        return p;
    }

    private static String resource(String path) throws IOException {
        try (InputStream in = ControlHandler.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException(path + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
