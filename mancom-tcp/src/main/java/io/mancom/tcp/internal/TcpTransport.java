package io.mancom.tcp.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.TcpAddress;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.TcpSettings;
import io.mancom.spi.LinkSink;
import io.mancom.spi.Listener;
import io.mancom.spi.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * TCP on the runtime's event loops. Thread-safe; every listener it opens is closed with it.
 */
public final class TcpTransport implements Transport {
    private final NettyRuntime runtime;
    private final ChannelGroup servers = new DefaultChannelGroup("mancom-tcp-servers", GlobalEventExecutor.INSTANCE);

    public TcpTransport(NettyRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public Listener listen(EndPoint endpoint, LinkSink sink) {
        ChannelSink channels = channelSink(sink);
        TcpAddress address = tcpAddress(endpoint);
        TcpSettings tcp = TcpSettings.of(channels.settings());
        ServerBootstrap b = new ServerBootstrap()
                .group(runtime.group())
                .channel(runtime.serverSocketChannelType())
                .option(ChannelOption.SO_BACKLOG, tcp.backlog())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, tcp.noDelay())
                .childOption(ChannelOption.SO_KEEPALIVE, tcp.keepAlive())
                .childOption(ChannelOption.ALLOCATOR, runtime.alloc())
                // Limits, allow/deny and accept failures, before a socket reaches the runtime.
                .handler(new AcceptGuard(channels, tcp))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        addTimeouts(ch, tcp);
                        channels.channelOpened(ch);
                    }
                });
        CompletableFuture<EndPoint> ready = new CompletableFuture<>();
        ChannelFuture bind = b.bind(address.host(), address.port());
        Channel server = bind.channel();
        servers.add(server);
        bind.addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                InetSocketAddress local = (InetSocketAddress) f.channel().localAddress();
                ready.complete(EndPoint.tcp(address.host(), local.getPort()));
            } else {
                ready.completeExceptionally(bindFailure(channels.service(), endpoint, address, f.cause()));
            }
        });
        return new Listener() {
            @Override
            public CompletionStage<EndPoint> ready() {
                return ready;
            }

            @Override
            public void close() {
                server.close().syncUninterruptibly();
            }
        };
    }

    @Override
    public CompletionStage<Void> connect(EndPoint endpoint, LinkSink sink, Duration timeout) {
        ChannelSink channels = channelSink(sink);
        TcpAddress address = tcpAddress(endpoint);
        TcpSettings tcp = TcpSettings.of(channels.settings());
        CompletableFuture<Void> done = new CompletableFuture<>();
        Bootstrap b = new Bootstrap()
                .group(runtime.group())
                .channel(runtime.socketChannelType())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis())))
                .option(ChannelOption.TCP_NODELAY, tcp.noDelay())
                .option(ChannelOption.SO_KEEPALIVE, tcp.keepAlive())
                .option(ChannelOption.ALLOCATOR, runtime.alloc())
                // Nothing may be read before the runtime has its handlers in place.
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                    }
                });
        b.connect(address.host(), address.port()).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                addTimeouts(f.channel(), tcp);
                channels.channelOpened(f.channel());
                done.complete(null);
            } else {
                done.completeExceptionally(connectFailure(channels.service(), endpoint, address, timeout, f.cause()));
            }
        });
        return done;
    }

    @Override
    public void close() {
        servers.close().awaitUninterruptibly();
    }

    /** tcp.idle-timeout / tcp.read-timeout, in front of the runtime's handlers. */
    private static void addTimeouts(Channel ch, TcpSettings tcp) {
        TcpTimeouts timeouts = TcpTimeouts.of(tcp);
        if (timeouts != null) {
            ch.pipeline().addLast("mancom-tcp-timeouts", timeouts);
        }
    }

    private static ChannelSink channelSink(LinkSink sink) {
        if (sink instanceof ChannelSink c) {
            return c;
        }
        throw new IllegalArgumentException("the tcp transport needs the ManCom core runtime's ChannelSink, got " + sink.getClass().getName());
    }

    private static TcpAddress tcpAddress(EndPoint endpoint) {
        if (endpoint.address() instanceof TcpAddress a) {
            return a;
        }
        throw new IllegalArgumentException("not a tcp endpoint: " + endpoint);
    }

    static ManComException bindFailure(String service, EndPoint endpoint, TcpAddress address, Throwable cause) {
        String what = "cannot listen on " + endpoint + " for service '" + service + "': ";
        String msg = String.valueOf(cause.getMessage());
        // Native (epoll) and NIO sockets word these differently, and only NIO uses BindException.
        if (msg.contains("in use")) {
            return new ManComException(Reason.ADDRESS_IN_USE, what + "address already in use. Another program (or "
                    + "another service) is listening on port " + address.port() + "; stop it, or change mancom.services."
                    + service + ".endpoint (`ss -ltnp 'sport = :" + address.port() + "'` shows who has the port)", cause);
        }
        if (msg.contains("ermission denied") || msg.contains("not permitted")) {
            return new ManComException(Reason.PERMISSION_DENIED, what + "permission denied. Ports below 1024 need "
                    + "root or CAP_NET_BIND_SERVICE; choose a port of 1024 or above", cause);
        }
        if (cause instanceof UnknownHostException || cause.getCause() instanceof UnknownHostException) {
            return new ManComException(Reason.UNREACHABLE, what + "unknown host '" + address.host() + "'", cause);
        }
        if (cause instanceof BindException || msg.contains("assign requested address")) {
            return new ManComException(Reason.UNREACHABLE, what + msg + ". Is " + address.host()
                    + " an address of this machine? Use 0.0.0.0 for every interface, 127.0.0.1 for loopback", cause);
        }
        return new ManComException(Reason.IO, what + cause, cause);
    }

    static ManComException connectFailure(String service, EndPoint endpoint, TcpAddress address, Duration timeout, Throwable cause) {
        String what = "cannot connect to service '" + service + "' at " + endpoint + ": ";
        String msg = String.valueOf(cause.getMessage());
        if (cause instanceof ConnectTimeoutException) {
            return new ManComException(Reason.TIMEOUT, what + "no answer within " + timeout + " (connect-timeout). "
                    + "Is the host up and the port open in its firewall?", cause);
        }
        if (cause instanceof UnknownHostException || cause.getCause() instanceof UnknownHostException) {
            return new ManComException(Reason.UNREACHABLE, what + "unknown host '" + address.host() + "'", cause);
        }
        if (cause instanceof ConnectException && msg.contains("refused")) {
            return new ManComException(Reason.UNREACHABLE, what + "connection refused: nothing is listening on port "
                    + address.port() + ". Is the server running, and does its config give the same endpoint?", cause);
        }
        if (cause instanceof NoRouteToHostException || msg.contains("unreachable") || msg.contains("No route")) {
            return new ManComException(Reason.UNREACHABLE, what + "host unreachable (" + msg + ")", cause);
        }
        if (cause instanceof SocketException || cause instanceof ConnectException) {
            return new ManComException(Reason.UNREACHABLE, what + msg, cause);
        }
        return new ManComException(Reason.IO, what + cause, cause);
    }
}
