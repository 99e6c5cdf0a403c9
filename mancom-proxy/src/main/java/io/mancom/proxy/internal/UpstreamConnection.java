package io.mancom.proxy.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * What {@link H1Link} and {@link H2Link} share: the last handler of an upstream connection's
 * pipeline, which reports its end to the pool once, whether the dial failed, the peer closed, an
 * error closed it, or the proxy closed it itself ({@link #closing}: not counted as a loss).
 * Pool loop only.
 */
abstract class UpstreamConnection extends ChannelInboundHandlerAdapter implements UpstreamLink {
    final UpstreamPool pool;
    Channel channel;
    /** Connected and (HTTP/2) the peer's SETTINGS arrived. */
    boolean ready;
    boolean lost;
    /** Closed by the proxy: drained, {@code Connection: close}, a timeout, the proxy closing. */
    boolean closing;
    /** Why it ends, when an error or a failed handshake ends it. */
    String failure;

    UpstreamConnection(UpstreamPool pool) {
        this.pool = pool;
    }

    @Override
    public void close() {
        closing = true;
        channel.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failure == null) {
            failure = String.valueOf(cause);
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        lost(failure != null ? failure : "the connection closed");
        super.channelInactive(ctx);
    }

    @Override
    public final void lost(String why) {
        if (!lost) {
            lost = true;
            endRequests(why);
            pool.linkLost(this, ready, closing, why);
        }
    }

    /** Answers or re-queues the requests it carried (HTTP/2 streams do that themselves as they close). */
    void endRequests(String why) {
    }
}
