package io.mancom.proxy.internal;

import io.mancom.proxy.ProxyConfig;
import io.mancom.proxy.ProxyStats;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;

/**
 * What {@code HttpProxyHandler} puts together: the counters, the upstream pool (on one loop of the
 * group) and its dialer; and the client pipeline it installs on each link.
 */
public final class ProxyCore {
    private final Counters counters = new Counters();
    private final UpstreamPool pool;

    public ProxyCore(ProxyConfig config, EventLoopGroup group, Class<? extends SocketChannel> channelType,
                     ByteBufAllocator alloc) {
        Dialer dialer = new Dialer(config, channelType, alloc);
        this.pool = new UpstreamPool(group.next(), config, counters, alloc, dialer);
        pool.start();
    }

    /** Installs the client's pipeline on a fresh channel (on its loop) and turns reading on. */
    public void serve(Channel ch) {
        ClientSession.install(ch, pool);
    }

    public ProxyStats stats() {
        int[] g = pool.gauges();
        return counters.snapshot(g[0], g[1], g[2]);
    }

    public void close() {
        pool.close();
    }
}
