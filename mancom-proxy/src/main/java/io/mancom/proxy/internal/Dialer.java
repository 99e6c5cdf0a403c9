package io.mancom.proxy.internal;

import io.mancom.proxy.ProxyConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;

import javax.net.ssl.SSLException;
import java.util.function.Function;

/**
 * Opens upstream connections for a pool: a TCP connection on the pool's loop with the link's
 * pipeline (HTTP/2, HTTP/2 over TLS with ALPN h2 and the upstream's host name checked against its
 * certificate, or HTTP/1.1). A failed connect is reported to the pool as a failed dial.
 */
public final class Dialer implements Function<UpstreamPool, UpstreamLink> {
    /** A connect that takes longer fails (and is redialled with backoff); bounded by upstream-timeout. */
    static final long MAX_CONNECT_MILLIS = 5_000;

    private final ProxyConfig config;
    private final Class<? extends SocketChannel> channelType;
    private final ByteBufAllocator alloc;
    private final SslContext ssl;

    /**
     * @throws IllegalArgumentException if the TLS context for h2 cannot be made (a bad CA file)
     */
    public Dialer(ProxyConfig config, Class<? extends SocketChannel> channelType, ByteBufAllocator alloc) {
        this.config = config;
        this.channelType = channelType;
        this.alloc = alloc;
        this.ssl = config.upstream().protocol() == ProxyConfig.Protocol.H2 ? tls(config) : null;
    }

    private static SslContext tls(ProxyConfig config) {
        SslContextBuilder b = SslContextBuilder.forClient()
                .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .endpointIdentificationAlgorithm("HTTPS")
                .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                        ApplicationProtocolNames.HTTP_2));
        config.ca().ifPresent(p -> b.trustManager(p.toFile()));
        try {
            return b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("cannot set up TLS for " + config.upstream() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public UpstreamLink apply(UpstreamPool pool) {
        ProxyConfig.Upstream up = config.upstream();
        H2Link h2 = up.protocol().multiplexed() ? new H2Link(pool, ssl != null) : null;
        H1Link h1 = h2 == null ? new H1Link(pool) : null;
        UpstreamLink link = h2 != null ? h2 : h1;
        Bootstrap b = new Bootstrap().group(pool.loop()).channel(channelType)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, alloc)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        (int) Math.max(1, Math.min(MAX_CONNECT_MILLIS, config.timeout().toMillis())))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (h2 != null) {
                            h2.install(ch, ssl == null ? null : ssl.newHandler(ch.alloc(), up.host(), up.port()));
                        } else {
                            h1.install(ch);
                        }
                    }
                });
        ChannelFuture f = b.connect(up.host(), up.port());
        f.addListener(done -> {
            if (!done.isSuccess()) {
                link.lost("cannot connect: " + done.cause().getMessage());
            }
        });
        return link;
    }
}
