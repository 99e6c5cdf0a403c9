package io.mancom.core.internal.mux;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * Two mux sessions over one real TCP loopback connection: the server side accepts (responder
 * unless told otherwise), the client side dials (initiator).
 */
final class MuxLoopback implements AutoCloseable {

    static final long TIMEOUT_SECONDS = 30;

    final Channel serverChannel;
    final MuxSessionHandler server;
    final MuxSessionHandler client;

    private MuxLoopback(Channel serverChannel, MuxSessionHandler server, MuxSessionHandler client) {
        this.serverChannel = serverChannel;
        this.server = server;
        this.client = client;
    }

    static EventLoopGroup newGroup() {
        return new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    static Builder builder(EventLoopGroup group) {
        return new Builder(group);
    }

    @Override
    public void close() {
        client.link().close().syncUninterruptibly();
        server.link().close().syncUninterruptibly();
        serverChannel.close().syncUninterruptibly();
    }

    static final class Builder {
        private final EventLoopGroup group;
        private MuxSettings serverSettings = MuxSettings.DEFAULTS;
        private MuxSettings clientSettings = MuxSettings.DEFAULTS;
        private MuxSettings.Role serverRole = MuxSettings.Role.RESPONDER;
        private MuxSettings.Role clientRole = MuxSettings.Role.INITIATOR;
        private MuxStreamAcceptor serverAcceptor = MuxStreamAcceptor.REFUSE_ALL;
        private MuxStreamAcceptor clientAcceptor = MuxStreamAcceptor.REFUSE_ALL;
        private IntSupplier serverTies;
        private IntSupplier clientTies;
        private Consumer<Channel> serverLinkSetup = ch -> { };
        private Consumer<Channel> clientLinkSetup = ch -> { };

        private Builder(EventLoopGroup group) {
            this.group = group;
        }

        Builder settings(MuxSettings both) {
            serverSettings = both;
            clientSettings = both;
            return this;
        }

        Builder serverSettings(MuxSettings s) {
            serverSettings = s;
            return this;
        }

        Builder clientSettings(MuxSettings s) {
            clientSettings = s;
            return this;
        }

        Builder roles(MuxSettings.Role server, MuxSettings.Role client) {
            serverRole = server;
            clientRole = client;
            return this;
        }

        Builder tieBreaks(IntSupplier server, IntSupplier client) {
            serverTies = server;
            clientTies = client;
            return this;
        }

        Builder serverAcceptor(MuxStreamAcceptor a) {
            serverAcceptor = quietly(a);
            return this;
        }

        Builder clientAcceptor(MuxStreamAcceptor a) {
            clientAcceptor = quietly(a);
            return this;
        }

        /** Runs on each link after the session is installed (to add a spy, say). */
        Builder serverLink(Consumer<Channel> setup) {
            serverLinkSetup = setup;
            return this;
        }

        Builder clientLink(Consumer<Channel> setup) {
            clientLinkSetup = setup;
            return this;
        }

        MuxLoopback start() throws Exception {
            CompletableFuture<MuxSessionHandler> serverSession = new CompletableFuture<>();
            Channel serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            serverSession.complete(install(ch, serverSettings, serverRole, serverAcceptor, serverTies));
                            serverLinkSetup.accept(ch);
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            CompletableFuture<MuxSessionHandler> clientSession = new CompletableFuture<>();
            new Bootstrap()
                    .group(group)
                    .channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            clientSession.complete(install(ch, clientSettings, clientRole, clientAcceptor, clientTies));
                            clientLinkSetup.accept(ch);
                        }
                    })
                    .connect(serverChannel.localAddress()).sync();
            return new MuxLoopback(serverChannel, serverSession.get(TIMEOUT_SECONDS, TimeUnit.SECONDS),
                    clientSession.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        }

        /**
         * Ends each accepted stream's pipeline with {@link StreamHandlers#quiet()}: a test's acceptor
         * often takes a stream only to look at it, and the cause a stream fires when its session
         * ends must not reach the pipeline's tail (CI fails on such a warning).
         */
        private static MuxStreamAcceptor quietly(MuxStreamAcceptor a) {
            return (stream, service) -> {
                boolean taken = a.accept(stream, service);
                if (taken) {
                    stream.pipeline().addLast(StreamHandlers.quiet());
                }
                return taken;
            };
        }

        private static MuxSessionHandler install(Channel ch, MuxSettings s, MuxSettings.Role role, MuxStreamAcceptor a,
                                                 IntSupplier ties) {
            return ties == null ? MuxSessionHandler.install(ch, s, role, a) : MuxSessionHandler.install(ch, s, role, a, ties);
        }
    }
}
