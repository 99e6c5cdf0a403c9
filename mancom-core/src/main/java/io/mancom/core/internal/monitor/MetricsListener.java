package io.mancom.core.internal.monitor;

import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.internal.config.MetricsSettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.util.concurrent.ImmediateEventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The optional TCP listener for a Prometheus scraper ({@code mancom.metrics.listen}): HTTP/1.1,
 * {@code GET /metrics} answers the same exposition as the control socket ({@link Metrics}), and
 * nothing else is served (no status, no events: the port may face a network). Served on the
 * runtime's event loops; the exposition is built on its blocking executor.
 *
 * <h2>Failures</h2>
 * Monitoring never stops a runtime: a bind that fails (port taken, unknown host) logs one line
 * and {@link #start} returns null. A client that sends nothing for 30 s is dropped.
 *
 * <p>Thread-safe: {@link #start} and {@link #close()} may run on any thread but an event loop.
 */
public final class MetricsListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsListener.class);

    private final Channel server;
    private final ChannelGroup clients;

    private MetricsListener(Channel server, ChannelGroup clients) {
        this.server = server;
        this.clients = clients;
    }

    /** Listens where {@code settings} say, or returns null (no listener configured, or the bind failed: logged). */
    public static MetricsListener start(MetricsSettings settings, NettyRuntime runtime, Monitor monitor) {
        if (settings.listen() == null) {
            return null;
        }
        InetSocketAddress at = new InetSocketAddress(settings.listen().getHostString(), settings.listen().getPort());
        if (at.isUnresolved()) {
            log.warn("no metrics listener: cannot resolve {}", settings.listen().getHostString());
            return null;
        }
        Metrics metrics = new Metrics(monitor);
        ChannelGroup clients = new DefaultChannelGroup("mancom-metrics", ImmediateEventExecutor.INSTANCE);
        try {
            Channel server = new ServerBootstrap()
                    .group(runtime.group())
                    .channel(runtime.serverSocketChannelType())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            clients.add(ch);
                            ch.pipeline().addLast(new ReadTimeoutHandler(30, TimeUnit.SECONDS), new HttpServerCodec(),
                                    new HttpObjectAggregator(16 * 1024),
                                    new Scrape(metrics, runtime.blockingExecutor()));
                        }
                    })
                    .bind(at).syncUninterruptibly().channel();
            log.info("metrics for Prometheus on http://{}/metrics", hostPort((InetSocketAddress) server.localAddress()));
            return new MetricsListener(server, clients);
        } catch (Exception e) {
            log.warn("no metrics listener: cannot listen on {}: {}", at, e.toString());
            return null;
        }
    }

    /** Where it listens (the port resolved). */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    private static String hostPort(InetSocketAddress a) {
        String host = a.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        clients.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /** {@code GET /metrics}; anything else is 404 or 405. One per connection, on its loop. */
    private static final class Scrape extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final Metrics metrics;
        private final Executor executor;

        Scrape(Metrics metrics, Executor executor) {
            this.metrics = metrics;
            this.executor = executor;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req) && req.decoderResult().isSuccess();
            if (!req.decoderResult().isSuccess()) {
                send(ctx, false, HttpResponseStatus.BAD_REQUEST, "text/plain; charset=utf-8", "bad request\n");
            } else if (!req.method().equals(HttpMethod.GET)) {
                send(ctx, keepAlive, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                        "read-only: GET /metrics\n");
            } else if (!new QueryStringDecoder(req.uri()).path().equals("/metrics")) {
                send(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "text/plain; charset=utf-8",
                        "ManCom serves only /metrics here\n");
            } else {
                try {
                    executor.execute(() -> {
                        String body;
                        try {
                            body = metrics.scrape();
                        } catch (RuntimeException e) {
                            log.warn("metrics listener: the exposition failed", e);
                            send(ctx, false, HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8",
                                    e + "\n");
                            return;
                        }
                        send(ctx, keepAlive, HttpResponseStatus.OK, Metrics.CONTENT_TYPE, body);
                    });
                } catch (RejectedExecutionException closing) {
                    send(ctx, false, HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
                            "the runtime is closing\n");
                }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("metrics client failed: {}", cause.toString());
            ctx.close();
        }

        private static void send(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String type,
                                 String body) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
            if (status == HttpResponseStatus.METHOD_NOT_ALLOWED) {
                r.headers().set(HttpHeaderNames.ALLOW, "GET");
            }
            HttpUtil.setContentLength(r, bytes.length);
            HttpUtil.setKeepAlive(r, keepAlive);
            if (keepAlive) {
                ctx.writeAndFlush(r);
            } else {
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
