package io.mancom.daemon.internal;

import io.mancom.EndPoint;
import io.mancom.core.spi.device.DeviceChannel;
import io.mancom.core.spi.device.DeviceLink;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The process side of a {@code ManCom-Carry: device} attach connection, for tests, written from
 * docs/daemon.md: a real Unix socket pair (the daemon's end handed to {@link Owner#attach}); the
 * process's end reads descriptors, says {@code R}, and for each line it receives says {@code A} and
 * reads and writes the line on its own copy of the descriptor (a {@link DeviceChannel} on an epoll
 * loop, collected by an {@link AttachedProcess.Stream}); when that copy is closed it says {@code C}.
 */
final class LineProcess implements AutoCloseable {
    volatile Channel channel; // the process's end
    final BlockingQueue<AttachedProcess.Stream> lines = new LinkedBlockingQueue<>();
    private final List<DeviceChannel> copies = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final EventLoopGroup loops;

    private LineProcess(EventLoopGroup loops) {
        this.loops = loops;
    }

    static LineProcess attach(Owner owner, String service, EventLoopGroup daemonLoops, EventLoopGroup processLoops,
                              Path path) throws Exception {
        CompletableFuture<Void> accepted = new CompletableFuture<>();
        Peer peer = new Peer(ProcessHandle.current().pid(), 1000, "tester", List.of(1000), List.of("tester"));
        Channel server = new ServerBootstrap().group(daemonLoops).channel(EpollServerDomainSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
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
            LineProcess p = new LineProcess(processLoops);
            p.channel = new Bootstrap().group(processLoops).channel(EpollDomainSocketChannel.class)
                    .option(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                    .handler(p.new Receiver())
                    .connect(new DomainSocketAddress(path.toFile())).sync().channel();
            accepted.get(AttachedProcess.T.toSeconds(), TimeUnit.SECONDS);
            p.channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{'R'})).sync();
            return p;
        } finally {
            server.close().sync();
        }
    }

    /** The next line the daemon hands to this process. */
    AttachedProcess.Stream nextLine() throws InterruptedException {
        AttachedProcess.Stream s = lines.poll(AttachedProcess.T.toSeconds(), TimeUnit.SECONDS);
        if (s == null) {
            throw new AssertionError("no line reached the process within " + AttachedProcess.T);
        }
        return s;
    }

    /** Writes raw bytes on the attach connection (a process that breaks the protocol). */
    void send(byte... bytes) {
        channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
    }

    /** Kills the process: its attach connection and its copies of the line close at once, without a C. */
    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        for (DeviceChannel c : copies) {
            c.close().syncUninterruptibly();
        }
    }

    private final class Receiver extends ChannelInboundHandlerAdapter {
        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            // As the process side does: a line whose attach ended goes to the next process.
            copies.forEach(Channel::close);
            ctx.fireChannelInactive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof FileDescriptor fd)) {
                ReferenceCountUtil.release(msg);
                throw new AssertionError("the daemon sent " + msg + " where a descriptor belongs");
            }
            DeviceChannel line = new DeviceChannel(new FdLink(fd), Runnable::run);
            copies.add(line);
            line.pipeline().addLast(new AttachedProcess.Stream(line, lines));
            line.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                    // A hang-up or a failed read ends this copy, as the runtime's connection
                    // handler does; the close says C to the daemon (above).
                    ctx.close();
                }
            });
            line.closeFuture().addListener(f -> line.releaseFuture().thenRun(() -> {
                if (channel.isActive()) {
                    channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{'C'}));
                }
            }));
            ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[]{'A'}))
                    .addListener(f -> loops.next().register(line));
        }
    }

    /** This process's copy of the line: the event loop serves the descriptor. */
    private record FdLink(FileDescriptor fd) implements DeviceLink {
        @Override
        public int descriptor() {
            return fd.intValue();
        }

        @Override
        public int read(byte[] dst, int off, int len) throws IOException {
            throw new IOException("served by the event loop");
        }

        @Override
        public void write(ByteBuffer src) throws IOException {
            throw new IOException("served by the event loop");
        }

        @Override
        public void close() {
            try {
                fd.close();
            } catch (IOException ignored) {
                // closed already
            }
        }

        @Override
        public EndPoint local() {
            return EndPoint.parse("serial:///dev/handed");
        }

        @Override
        public EndPoint remote() {
            return local();
        }
    }
}
