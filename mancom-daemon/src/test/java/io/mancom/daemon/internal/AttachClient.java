package io.mancom.daemon.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The process side of an fds attach, written from docs/daemon.md only (not the daemon's code): a
 * Netty {@link EpollDomainSocketChannel} that sends the attach request, switches to reading file
 * descriptors after the 101, writes 'R', queues every descriptor received, and writes 'A' when
 * the test says so. A scripted peer: the test decides when to acknowledge and when to go away.
 */
final class AttachClient implements AutoCloseable {
    final Channel channel;
    final FullHttpResponse answer;
    final BlockingQueue<FileDescriptor> received = new LinkedBlockingQueue<>();
    private final EventLoopGroup group;

    private AttachClient(Channel channel, FullHttpResponse answer, EventLoopGroup group) {
        this.channel = channel;
        this.answer = answer;
        this.group = group;
    }

    /** Attaches to {@code service}; on a 101 the client is ready ('R' written). Else {@link #answer} says why. */
    static AttachClient attach(EventLoopGroup group, Path socket, String service) throws Exception {
        CompletableFuture<FullHttpResponse> answer = new CompletableFuture<>();
        AttachClient[] self = new AttachClient[1];
        Channel ch = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void handlerAdded(ChannelHandlerContext ctx) {
                        ctx.pipeline().addBefore(ctx.name(), "http", new HttpClientCodec());
                        ctx.pipeline().addBefore(ctx.name(), "aggregate", new HttpObjectAggregator(65536));
                    }

                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof FullHttpResponse r) {
                            answer.complete(r.retainedDuplicate());
                            r.release();
                        } else if (msg instanceof FileDescriptor fd) {
                            while (self[0] == null) {
                                Thread.onSpinWait();
                            }
                            self[0].received.add(fd);
                        } else {
                            ReferenceCountUtil.release(msg);
                        }
                    }
                })
                .connect(new DomainSocketAddress(socket.toFile())).sync().channel();
        FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST,
                "/v1/services/" + service + "/attach", Unpooled.EMPTY_BUFFER);
        req.headers().set(HttpHeaderNames.HOST, "mancomd").set(HttpHeaderNames.UPGRADE, "mancom-attach/1")
                .set(HttpHeaderNames.CONNECTION, "Upgrade").set("ManCom-Style", "callbacks")
                .set(HttpHeaderNames.CONTENT_LENGTH, 0);
        ch.writeAndFlush(req).sync();
        FullHttpResponse r = answer.get(10, TimeUnit.SECONDS);
        AttachClient c = new AttachClient(ch, r, group);
        if (r.status().code() == 101) {
            ch.eventLoop().submit(() -> {
                ch.pipeline().remove("http");
                ch.pipeline().remove("aggregate");
                ch.config().setOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS);
            }).sync();
            self[0] = c;
            c.write('R');
        } else {
            self[0] = c;
        }
        return c;
    }

    String header(String name) {
        return answer.headers().get(name);
    }

    String body() {
        return answer.content().toString(StandardCharsets.UTF_8);
    }

    /** The next descriptor, or null after {@code seconds}. */
    FileDescriptor next(long seconds) throws InterruptedException {
        return received.poll(seconds, TimeUnit.SECONDS);
    }

    void write(char b) throws InterruptedException {
        channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {(byte) b})).sync();
    }

    void ack() throws InterruptedException {
        write('A');
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        answer.release();
    }

    /** A received TCP socket as a Netty channel; its bytes gather in {@link Adopted#in}. */
    static Adopted adopt(EventLoopGroup group, FileDescriptor fd) throws InterruptedException {
        Adopted a = new Adopted(new EpollSocketChannel(fd.intValue()));
        a.channel.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                byte[] bytes = new byte[b.readableBytes()];
                b.readBytes(bytes);
                b.release();
                synchronized (a.in) {
                    a.in.writeBytes(bytes);
                    a.in.notifyAll();
                }
            }
        });
        group.register(a.channel).sync();
        return a;
    }

    static final class Adopted {
        final EpollSocketChannel channel;
        final ByteArrayOutputStream in = new ByteArrayOutputStream();

        Adopted(EpollSocketChannel channel) {
            this.channel = channel;
        }

        /** Waits until {@code n} bytes arrived; returns them as text. */
        String read(int n, long millis) throws InterruptedException {
            long end = System.currentTimeMillis() + millis;
            synchronized (in) {
                while (in.size() < n && System.currentTimeMillis() < end) {
                    in.wait(Math.max(1, end - System.currentTimeMillis()));
                }
                return in.toString(StandardCharsets.UTF_8);
            }
        }

        void write(String s) throws InterruptedException {
            channel.writeAndFlush(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8)).sync();
        }
    }
}
