package io.mancom.core.internal.daemon;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The daemon's side of the attach handshake as docs/daemon.md writes it, and no more: reads a
 * request head, records it, and lets the test answer on the connection. For testing the process
 * side against the protocol on a real Unix socket.
 */
final class FakeDaemon implements AutoCloseable {
    /** A request the fake took: its head, and the connection to answer on (codecs gone). */
    record Attach(String head, Channel connection) {
    }

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    final BlockingQueue<Attach> attaches = new LinkedBlockingQueue<>();
    /** Bytes each attach connection sent after its head ('R', 'A'...), by connection. */
    final BlockingQueue<String> afterHead = new LinkedBlockingQueue<>();
    private final Channel server;

    FakeDaemon(Path socket) {
        server = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HeadReader());
                    }
                })
                .bind(new DomainSocketAddress(socket.toFile())).syncUninterruptibly().channel();
    }

    /**
     * A listening TCP socket on loopback as the daemon has one: what it accepts goes to
     * {@code accepted} unregistered, so nothing reads it; the caller closes the listener.
     */
    io.netty.channel.epoll.EpollServerSocketChannel listen(BlockingQueue<io.netty.channel.epoll.EpollSocketChannel> accepted) {
        var listener = new io.netty.channel.epoll.EpollServerSocketChannel();
        listener.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                accepted.add((io.netty.channel.epoll.EpollSocketChannel) msg);
            }
        });
        group.register(listener).syncUninterruptibly();
        listener.bind(new java.net.InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly();
        return listener;
    }

    /** Writes {@code text} (ISO-8859-1) on {@code ch}. */
    static void send(Channel ch, String text) {
        ch.writeAndFlush(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1)).syncUninterruptibly();
    }

    static String switching(String carry, String endpoint) {
        return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: mancom-attach/1\r\nConnection: Upgrade\r\n"
                + "ManCom-Carry: " + carry + "\r\nManCom-EndPoint: " + endpoint + "\r\n\r\n";
    }

    static String refusal(int status, String reason, String message) {
        String body = "{\"reason\":\"" + reason + "\",\"message\":\"" + message + "\"}";
        return "HTTP/1.1 " + status + " Refused\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    private final class HeadReader extends ChannelInboundHandlerAdapter {
        private final StringBuilder text = new StringBuilder();
        private boolean headDone;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                String s = in.toString(StandardCharsets.ISO_8859_1);
                if (headDone) {
                    afterHead.add(s);
                    return;
                }
                text.append(s);
                int end = text.indexOf("\r\n\r\n");
                if (end >= 0) {
                    headDone = true;
                    attaches.add(new Attach(text.substring(0, end), ctx.channel()));
                    if (text.length() > end + 4) {
                        afterHead.add(text.substring(end + 4));
                    }
                }
            } finally {
                in.release();
            }
        }
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
