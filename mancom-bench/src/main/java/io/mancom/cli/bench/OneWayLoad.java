package io.mancom.cli.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * One-way load: a sink server that counts and drops what it reads, and clients that write to a
 * path leading to it as fast as their connection stays writable (Netty's write-buffer marks
 * bound what each keeps queued). Throughput is what reaches the sink, so a path that buffers
 * cannot look faster than it delivers. Plain Netty, as {@link LoadGenerator}; one measurement at a
 * time; {@link #close()} releases the payload and stops the loops.
 */
final class OneWayLoad implements AutoCloseable {
    private final EventLoopGroup group;
    private final boolean epoll;
    private final Channel sink;
    private final LongAdder received = new LongAdder();
    private final ByteBuf payload;

    OneWayLoad(int threads, boolean epoll, int size) throws InterruptedException {
        this.epoll = epoll;
        this.group = new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory("bench-oneway", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.payload = Unpooled.directBuffer(size).writeZero(size);
        this.sink = new ServerBootstrap().group(group)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .childHandler(new Sink())
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    /** The sink's address: the backend that the measured paths lead to. */
    InetSocketAddress sinkAddress() {
        return (InetSocketAddress) sink.localAddress();
    }

    /**
     * Opens {@code connections} writers to {@code target}, lets them run for {@code warmupNanos},
     * and returns the MB/s the sink received over the next {@code measureNanos}.
     *
     * @throws IOException if a connection fails, or nothing arrived
     */
    double mbPerSecond(String name, InetSocketAddress target, int connections, long warmupNanos, long measureNanos)
            throws IOException, InterruptedException {
        Bootstrap b = new Bootstrap().group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Writer());
                    }
                });
        List<Channel> channels = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                ChannelFuture f = b.connect(target).awaitUninterruptibly();
                if (!f.isSuccess()) {
                    throw new IOException("cannot connect to " + name + " at " + target + ": " + f.cause().getMessage(),
                            f.cause());
                }
                channels.add(f.channel());
            }
            TimeUnit.NANOSECONDS.sleep(warmupNanos);
            long r0 = received.sum();
            long t0 = System.nanoTime();
            TimeUnit.NANOSECONDS.sleep(measureNanos);
            long r1 = received.sum();
            long t1 = System.nanoTime();
            if (r1 == r0) {
                throw new IOException("nothing reached the sink through " + name);
            }
            return (r1 - r0) / 1e6 / ((t1 - t0) / 1e9);
        } finally {
            for (Channel ch : channels) {
                ch.close();
            }
            for (Channel ch : channels) {
                ch.closeFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
    }

    @Override
    public void close() {
        sink.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        payload.release();
    }

    /** Counts and releases what arrives. */
    @ChannelHandler.Sharable
    private final class Sink extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            received.add(((ByteBuf) msg).readableBytes());
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a writer closed mid-write: its reset
        }
    }

    /**
     * Writes while the connection is writable: retained duplicates of the one payload, no copy.
     * A flush that drains the queue fires the writability event from inside {@link #fill}: that
     * asks for another round instead of recursing.
     */
    private final class Writer extends ChannelInboundHandlerAdapter {
        private boolean filling;
        private boolean again;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            fill(ctx);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            fill(ctx);
        }

        private void fill(ChannelHandlerContext ctx) {
            if (filling) {
                again = true;
                return;
            }
            filling = true;
            Channel ch = ctx.channel();
            do {
                again = false;
                while (ch.isActive() && ch.isWritable()) {
                    ctx.write(payload.retainedDuplicate(), ctx.voidPromise());
                }
                ctx.flush();
            } while (again && ch.isActive() && ch.isWritable());
            filling = false;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
