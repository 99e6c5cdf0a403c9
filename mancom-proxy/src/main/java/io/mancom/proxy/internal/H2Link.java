package io.mancom.proxy.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;

/**
 * One HTTP/2 connection to the upstream, carrying each request as a stream: the last handler of
 * the connection's pipeline, after Netty's {@code Http2FrameCodec} and {@code Http2MultiplexHandler}
 * (and an {@code SslHandler} for h2).
 *
 * <p>It is ready once the peer's first SETTINGS frame arrives, whose
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS} bounds the streams it opens at once (unbounded peers
 * get {@link #UNBOUNDED_STREAMS}); later SETTINGS may change it. A GOAWAY makes it drain: no new
 * streams, the open ones finish, then it closes; streams above the GOAWAY's last stream id were
 * not processed and go back to the pool's queue. Runs on the pool's loop only.
 */
final class H2Link extends UpstreamConnection {
    /** Streams at once when the peer sets no limit (RFC 9113 recommends peers allow at least 100). */
    static final int UNBOUNDED_STREAMS = 1000;
    /** Our receive windows: per stream, and for the whole connection (the protocol's start is 64 KiB). */
    static final int STREAM_WINDOW = 1 << 20;
    static final int CONNECTION_WINDOW = 16 << 20;

    private final boolean tls;
    private Http2StreamChannelBootstrap streams;
    private int maxStreams;
    private int active;
    private boolean draining;
    private int goAwayLastStreamId = Integer.MAX_VALUE;

    H2Link(UpstreamPool pool, boolean tls) {
        super(pool);
        this.tls = tls;
    }

    /** Installs the HTTP/2 pipeline behind {@code ssl} (null for h2c) on a channel being connected. */
    void install(Channel ch, SslHandler ssl) {
        channel = ch;
        streams = new Http2StreamChannelBootstrap(ch);
        if (ssl != null) {
            ch.pipeline().addLast(ssl);
        }
        // Streams flush one by one; under load many are written in one loop turn: one write call.
        ch.pipeline().addLast(new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
        Http2Settings settings = Http2Settings.defaultSettings().pushEnabled(false).maxConcurrentStreams(0)
                .initialWindowSize(STREAM_WINDOW);
        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().initialSettings(settings).build());
        ch.pipeline().addLast(new Http2MultiplexHandler(RefusePushes.INSTANCE));
        ch.pipeline().addLast(this);
    }

    @Override
    public int freeSlots() {
        return ready && !draining && !lost ? Math.max(0, maxStreams - active) : 0;
    }

    @Override
    public void send(Exchange x) {
        active++;
        H2Stream stream = new H2Stream(this, pool, x, tls);
        Future<Http2StreamChannel> opened = streams.handler(stream.initializer()).open();
        if (opened.isDone()) {
            streamOpened(opened, x, stream);
        } else {
            opened.addListener(f -> streamOpened(opened, x, stream));
        }
    }

    private void streamOpened(Future<Http2StreamChannel> opened, Exchange x, H2Stream stream) {
        if (!opened.isSuccess()) {
            streamEnded();
            pool.retry(x, "cannot open a stream: " + opened.cause());
            return;
        }
        stream.start(opened.getNow());
    }

    /** A stream this link opened has closed, answered or not. */
    void streamEnded() {
        active--;
        pool.attemptEnded();
        if (draining && active == 0) {
            closing = true;
            channel.close();
        } else {
            pool.linkFreed(this);
        }
    }

    /** Whether the peer said (GOAWAY) that it did not and will not process stream {@code id}. */
    boolean unprocessed(int id) {
        return id > goAwayLastStreamId;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // A connection-level WINDOW_UPDATE: many streams' responses in flight at once.
        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - 65535));
        super.channelActive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2SettingsFrame s) {
                Long max = s.settings().maxConcurrentStreams();
                if (max != null) {
                    maxStreams = (int) Math.min(max, UNBOUNDED_STREAMS);
                } else if (!ready) {
                    maxStreams = UNBOUNDED_STREAMS;
                }
                if (!ready && (!tls || negotiatedH2(ctx))) {
                    ready = true;
                    pool.linkReady(this);
                } else if (ready) {
                    pool.linkFreed(this);
                }
            } else if (msg instanceof Http2GoAwayFrame g) {
                goAwayLastStreamId = g.lastStreamId();
                if (!draining) {
                    draining = true;
                    pool.linkDraining(this);
                }
                if (active == 0) {
                    closing = true;
                    ctx.close();
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private boolean negotiatedH2(ChannelHandlerContext ctx) {
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        return ssl != null && ApplicationProtocolNames.HTTP_2.equals(ssl.applicationProtocol());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent hs) {
            if (!hs.isSuccess()) {
                failure = "TLS handshake failed: " + hs.cause();
                ctx.close();
            } else if (!negotiatedH2(ctx)) {
                failure = "the upstream did not agree to HTTP/2 (ALPN h2) over TLS";
                ctx.close();
            }
        }
        super.userEventTriggered(ctx, evt);
    }

    /** The handler of streams the peer opens: with pushes off there are none; any is closed. */
    @ChannelHandler.Sharable
    private static final class RefusePushes extends ChannelInboundHandlerAdapter {
        static final RefusePushes INSTANCE = new RefusePushes();

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.channel().close();
        }
    }
}
