package io.mancom.proxy.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

import java.util.ArrayDeque;

/**
 * One HTTP/1.1 client of the proxy: the last handler of its pipeline, after {@code HttpServerCodec}
 * and an {@code HttpObjectAggregator}. Each request becomes an {@link Exchange} for the pool; the
 * responses go back in the order the requests came (pipelining), whatever order the upstream
 * answers in.
 *
 * <h2>Flow control</h2>
 * The client is read while fewer than {@link #MAX_PIPELINED} of its requests wait for their
 * responses and its channel is writable; otherwise reading pauses, so a client that pipelines
 * without reading holds a bounded amount.
 *
 * <h2>Threading</h2>
 * Runs on the client channel's loop; {@link #deliver} may be called from the pool's loop and
 * hands over. A response that arrives after the client left is released.
 */
final class ClientSession extends ChannelInboundHandlerAdapter {
    /** Requests of one client waiting for their responses before it is read again. */
    static final int MAX_PIPELINED = 64;

    private final UpstreamPool pool;
    private final Counters counters;
    private final ArrayDeque<Slot> pending = new ArrayDeque<>();
    private Channel channel;
    private boolean lastRequestRead; // a request without keep-alive was read: read no more
    private boolean gone;

    /** A request's place in the client's order, and its response once there. */
    static final class Slot {
        final HttpVersion version;
        final boolean keepAlive;
        Exchange exchange;
        FullHttpResponse response;

        Slot(HttpVersion version, boolean keepAlive) {
            this.version = version;
            this.keepAlive = keepAlive;
        }
    }

    ClientSession(UpstreamPool pool) {
        this.pool = pool;
        this.counters = pool.counters();
    }

    /** Installs the client's pipeline on {@code ch} and starts reading it. */
    static void install(Channel ch, UpstreamPool pool) {
        int maxBody = pool.config().maxBody();
        Counters counters = pool.counters();
        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(maxBody) {
            @Override
            protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
                counters.rejected.increment(); // answered with 413 by the aggregator
                super.handleOversizedMessage(ctx, oversized);
            }
        }, new ClientSession(pool));
        ch.config().setAutoRead(true);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (lastRequestRead) {
            req.release();
            return;
        }
        counters.requests.increment();
        if (req.decoderResult().isFailure()) {
            req.release();
            counters.rejected.increment();
            Slot s = new Slot(HttpVersion.HTTP_1_1, false);
            pending.add(s);
            lastRequestRead = true;
            s.response = Responses.error(ctx.alloc(), HttpResponseStatus.BAD_REQUEST, "cannot read the request: "
                    + req.decoderResult().cause().getMessage());
            writeReady();
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        Slot s = new Slot(req.protocolVersion(), keepAlive);
        pending.add(s);
        if (!keepAlive) {
            lastRequestRead = true;
        }
        HttpHeaders h = req.headers();
        Responses.stripHopByHop(h);
        h.remove(HttpHeaderNames.EXPECT); // the aggregator has answered 100-continue itself
        req.setProtocolVersion(HttpVersion.HTTP_1_1);
        Exchange x = new Exchange(req, this, s);
        s.exchange = x;
        pool.submit(x);
        updateReading();
    }

    /** The answer to {@code slot}'s request, from any thread. */
    void deliver(Slot slot, FullHttpResponse response) {
        if (channel.eventLoop().inEventLoop()) {
            arrived(slot, response);
        } else {
            channel.eventLoop().execute(() -> arrived(slot, response));
        }
    }

    private void arrived(Slot slot, FullHttpResponse response) {
        if (gone) {
            response.release();
            return;
        }
        slot.response = response;
        if (pending.peek() == slot) {
            writeReady();
        }
    }

    /** Writes the responses at the head of the line that have arrived, in order, with one flush. */
    private void writeReady() {
        boolean wrote = false;
        Slot s;
        while ((s = pending.peek()) != null && s.response != null) {
            pending.poll();
            FullHttpResponse r = s.response;
            s.response = null;
            prepare(r, s);
            wrote = true;
            if (!s.keepAlive) {
                channel.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
                return; // what comes after is not wanted; channelInactive releases it
            }
            channel.write(r, channel.voidPromise());
        }
        if (wrote) {
            channel.flush();
        }
        updateReading();
    }

    private static void prepare(FullHttpResponse r, Slot s) {
        HttpHeaders h = r.headers();
        Responses.stripHopByHop(h);
        r.setProtocolVersion(s.version);
        if (!h.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            HttpUtil.setContentLength(r, r.content().readableBytes());
        }
        if (!s.keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (s.version.equals(HttpVersion.HTTP_1_0)) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
    }

    private void updateReading() {
        boolean read = !gone && !lastRequestRead && pending.size() < MAX_PIPELINED && channel.isWritable();
        if (channel.config().isAutoRead() != read) {
            channel.config().setAutoRead(read);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        updateReading();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        gone = true;
        Slot s;
        while ((s = pending.poll()) != null) {
            if (s.response != null) {
                s.response.release();
                s.response = null;
            } else if (s.exchange != null && !s.exchange.abandoned) {
                s.exchange.abandoned = true;
                counters.abandoned.increment();
            }
        }
        super.channelInactive(ctx);
    }
}
