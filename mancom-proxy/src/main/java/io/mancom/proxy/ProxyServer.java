package io.mancom.proxy;

import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.LinkHandler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A listening socket whose accepted links go to an {@link HttpProxyHandler}, on event loops of its
 * own, without a ManCom runtime or config file: what {@code mancom proxy}, the benchmark and the
 * tests run ({@code mancom serve} hands a {@code handler = http-proxy} service's links to the
 * handler itself, through the runtime). Each accepted channel is handed over as the
 * {@link LinkHandler} contract says (on its loop, active, auto-read off, nothing read).
 *
 * <h2>Lifecycle and threading</h2>
 * {@link #start} binds and returns once listening; {@link #close} stops listening, closes the
 * handler's upstream connections and every client link, and stops the loops. Thread-safe.
 */
public final class ProxyServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel listener;
    private final HttpProxyHandler handler;

    private ProxyServer(EventLoopGroup group, Channel listener, HttpProxyHandler handler) {
        this.group = group;
        this.listener = listener;
        this.handler = handler;
    }

    /**
     * Listens on {@code listen} (port 0: any free port) and proxies to {@code config}'s upstream.
     *
     * @param threads event-loop threads (0: Netty's default, twice the CPUs)
     * @throws IllegalStateException if it cannot listen (the cause says why)
     */
    public static ProxyServer start(InetSocketAddress listen, ProxyConfig config, int threads) {
        Objects.requireNonNull(listen, "listen");
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? NettyRuntime.epollIoHandlerFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("mancom-proxy", true), io);
        Class<? extends ServerSocketChannel> serverType = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        Class<? extends SocketChannel> type = epoll ? EpollSocketChannel.class : NioSocketChannel.class;
        HttpProxyHandler handler = null;
        try {
            handler = new HttpProxyHandler(config, group, type, ByteBufAllocator.DEFAULT);
            HttpProxyHandler h = handler;
            Channel ch = new ServerBootstrap().group(group).channel(serverType)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(new HandOver(h));
                        }
                    })
                    .bind(listen).syncUninterruptibly().channel();
            return new ProxyServer(group, ch, handler);
        } catch (RuntimeException e) {
            if (handler != null) {
                handler.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot listen on " + listen + ": " + e.getMessage(), e);
        }
    }

    /** The bound address (the actual port when 0 was asked for). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** The handler the links go to (its counters, its configuration). */
    public HttpProxyHandler handler() {
        return handler;
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        handler.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Calls the handler once the accepted channel is active, as the core's sinks do, and leaves. */
    private static final class HandOver extends ChannelInboundHandlerAdapter {
        private final LinkHandler handler;

        HandOver(LinkHandler handler) {
            this.handler = handler;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.pipeline().remove(this);
            handler.channelOpened(ctx.channel());
        }
    }
}
