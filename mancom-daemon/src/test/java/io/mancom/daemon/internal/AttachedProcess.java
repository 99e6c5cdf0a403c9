package io.mancom.daemon.internal;

import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxSettings;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The process side of an attach connection, for tests: a real Unix socket pair (an epoll server
 * socket on a temp path, the daemon's end handed to {@link Owner#attach}), with a mux session on
 * the process's end as responder with {@code routing = none} that accepts every stream the daemon
 * opens, as the process side does. Each stream collects what it receives.
 */
final class AttachedProcess implements AutoCloseable {
    static final Duration T = Duration.ofSeconds(30);

    volatile Channel channel; // the process's end
    final BlockingQueue<Stream> streams = new LinkedBlockingQueue<>();
    private volatile boolean startPaused;

    private AttachedProcess() {
    }

    /** Attaches a new "process" to {@code service} of {@code owner} over a new Unix socket at {@code path}. */
    static AttachedProcess attach(Owner owner, String service, EventLoopGroup daemonLoops, EventLoopGroup processLoops,
                                  Path path) throws Exception {
        CompletableFuture<Void> accepted = new CompletableFuture<>();
        Peer peer = new Peer(ProcessHandle.current().pid(), 1000, "tester", List.of(1000), List.of("tester"));
        Channel server = new ServerBootstrap().group(daemonLoops).channel(EpollServerDomainSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false) // as after the daemon's 101: the owner turns it on
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelActive(ChannelHandlerContext ctx) {
                        ctx.pipeline().remove(this);
                        try {
                            owner.attach(service, ctx.channel(), peer);
                        } finally {
                            accepted.complete(null);
                        }
                    }
                })
                .bind(new DomainSocketAddress(path.toFile())).sync().channel();
        try {
            AttachedProcess p = new AttachedProcess();
            p.channel = new Bootstrap().group(processLoops).channel(EpollDomainSocketChannel.class)
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            MuxSessionHandler.install(ch, MuxSettings.builder().enabled(true)
                                            .routing(MuxSettings.Routing.NONE).role(MuxSettings.Role.RESPONDER)
                                            .keepaliveInterval(Duration.ZERO).idleTimeout(Duration.ZERO).build(),
                                    MuxSettings.Role.RESPONDER, (stream, name) -> {
                                        Stream s = new Stream(stream, p.streams);
                                        stream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
                                        if (p.startPaused) {
                                            stream.config().setAutoRead(false);
                                        }
                                        stream.pipeline().addLast(s); // queued once active (registered)
                                        return true;
                                    });
                        }
                    })
                    .connect(new DomainSocketAddress(path.toFile())).sync().channel();
            // Closing the server socket before it accepted would drop the connection.
            accepted.get(T.toSeconds(), TimeUnit.SECONDS);
            return p;
        } finally {
            server.close().sync();
        }
    }

    /** Streams accepted from now on start with auto-read off (a process that does not read). */
    void startPaused(boolean paused) {
        this.startPaused = paused;
    }

    /** The next stream the daemon opens to this process. */
    Stream nextStream() throws InterruptedException {
        Stream s = streams.poll(T.toSeconds(), TimeUnit.SECONDS);
        if (s == null) {
            throw new AssertionError("no stream reached the process within " + T);
        }
        return s;
    }

    /** Kills the process's side: the attach connection closes without a goodbye. */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
    }

    /** One stream the daemon opened: a connection of the service, as the process sees it. */
    static final class Stream extends ChannelInboundHandlerAdapter {
        final Channel channel;
        private final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final CompletableFuture<Void> inputShutdown = new CompletableFuture<>();
        final CompletableFuture<Void> closed = new CompletableFuture<>();

        private final BlockingQueue<Stream> active;

        Stream(Channel channel, BlockingQueue<Stream> active) {
            this.channel = channel;
            this.active = active;
            channel.closeFuture().addListener(f -> closed.complete(null));
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            active.add(this);
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                ByteBuf b = (ByteBuf) msg;
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                synchronized (received) {
                    received.writeBytes(bytes);
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                inputShutdown.complete(null);
            }
            ReferenceCountUtil.release(evt);
        }

        int receivedCount() {
            synchronized (received) {
                return received.size();
            }
        }

        byte[] received() {
            synchronized (received) {
                return received.toByteArray();
            }
        }

        void write(byte[] data) {
            channel.writeAndFlush(Unpooled.wrappedBuffer(data));
        }

        /**
         * Writes {@code data} in chunks as the stream's writability allows (on its loop).
         *
         * @return completes when the last chunk is written
         */
        CompletableFuture<Void> pump(byte[] data) {
            channel.eventLoop().execute(() -> {
                pumpData = data;
                pumpOff = 0;
                continuePump();
            });
            return pumped;
        }

        private byte[] pumpData;
        private int pumpOff;
        private final CompletableFuture<Void> pumped = new CompletableFuture<>();

        private void continuePump() {
            if (pumpData == null) {
                return;
            }
            // pumpData is checked each time round: a write can call back in and finish the pump.
            while (pumpData != null && pumpOff < pumpData.length && channel.isWritable()) {
                int n = Math.min(16 * 1024, pumpData.length - pumpOff);
                int at = pumpOff;
                pumpOff += n; // first: the write may call back into continuePump (writability changed)
                channel.writeAndFlush(Unpooled.copiedBuffer(pumpData, at, n));
            }
            if (pumpData != null && pumpOff == pumpData.length) {
                pumpData = null;
                pumped.complete(null);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            continuePump();
            ctx.fireChannelWritabilityChanged();
        }

        void resumeReading() {
            channel.config().setAutoRead(true);
        }
    }
}
