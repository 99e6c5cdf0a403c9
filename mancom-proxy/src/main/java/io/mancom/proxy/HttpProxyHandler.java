package io.mancom.proxy;

import io.mancom.core.spi.LinkHandler;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.proxy.internal.ProxyCore;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;

import java.util.Objects;

/**
 * {@code handler = http-proxy}: serves HTTP/1.1 clients (keep-alive, pipelined or not, chunked
 * bodies) from one upstream, as configured by a {@link ProxyConfig} (docs/proxy.md):
 * <ul>
 *   <li>{@code h2c://} and {@code h2://}: every request is a stream of one HTTP/2 connection (more
 *       only if {@code upstream-connections} allows and every open one is at the peer's
 *       {@code SETTINGS_MAX_CONCURRENT_STREAMS}); requests beyond the streams wait in a bounded
 *       queue;</li>
 *   <li>{@code http://}: a pool of up to {@code upstream-connections} keep-alive HTTP/1.1
 *       connections, one request each at a time, and the same queue.</li>
 * </ul>
 * Each client gets its responses in the order of its requests. Errors are answered, never left
 * hanging: 502 when the upstream cannot be reached or drops a request (the connection is redialled
 * with backoff, 100 ms doubling to 5 s), 503 when the queue is full, 504 after
 * {@code upstream-timeout}, 400 and 413 for requests it cannot read or hold; each is counted in
 * {@link #stats()}.
 *
 * <h2>Lifecycle</h2>
 * Made once per service; it dials the upstream at once (HTTP/2) and keeps its connections until
 * {@link #close()}, which answers waiting requests with 502 and closes the upstream connections.
 * Client links it took over stay open until their clients leave.
 *
 * <h2>Threading and buffers</h2>
 * Thread-safe. {@link #channelOpened} runs on the link's loop, as the {@link LinkHandler} contract
 * says; the upstream connections and their state live on one loop of the group. Request and
 * response bodies are held whole (up to {@code http-max-body}) in buffers of the given allocator
 * and released when the response is written or its client is gone.
 */
public final class HttpProxyHandler implements LinkHandler, AutoCloseable {
    private final ProxyConfig config;
    private final ProxyCore core;

    /**
     * @param group       where the upstream connections live (one of its loops)
     * @param channelType the socket channel class matching {@code group}
     * @throws IllegalArgumentException if the TLS context for an h2 upstream cannot be made
     */
    public HttpProxyHandler(ProxyConfig config, EventLoopGroup group, Class<? extends SocketChannel> channelType,
                            ByteBufAllocator alloc) {
        this.config = Objects.requireNonNull(config, "config");
        this.core = new ProxyCore(config, Objects.requireNonNull(group, "group"),
                Objects.requireNonNull(channelType, "channelType"), Objects.requireNonNull(alloc, "alloc"));
    }

    /**
     * The handler for a service with {@code handler = http-proxy}, on the runtime's loops.
     *
     * @throws io.mancom.ConfigException if the service's proxy keys are bad (file, line and key named)
     */
    public static HttpProxyHandler forService(ServiceSettings service, NettyRuntime runtime) {
        return new HttpProxyHandler(ProxyConfig.from(service), runtime.group(), runtime.socketChannelType(),
                runtime.alloc());
    }

    @Override
    public void channelOpened(Channel channel) {
        assert channel.eventLoop().inEventLoop();
        core.serve(channel);
    }

    /** The configuration it runs with. */
    public ProxyConfig config() {
        return config;
    }

    /** The counters now; see {@link ProxyStats}. */
    public ProxyStats stats() {
        return core.stats();
    }

    /** Answers waiting requests with 502 and closes the upstream connections; returns at once. */
    @Override
    public void close() {
        core.close();
    }
}
