package io.mancom.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Many HTTP/1.1 clients at once, each on its own keep-alive connection, each sending requests
 * one after the other ({@code POST /echo/many<i>/r<k>} with a body of its own) and checking every
 * response's status and body exactly against what the nginx echo location answers for that
 * request. Collects what went wrong, per client.
 */
final class ManyClients {
    private ManyClients() {
    }

    /** What nginx's echo location answers: the method, the URI and the body it was sent. */
    static String expected(String path, String body) {
        return "POST " + path + " " + body;
    }

    /** Runs the clients; returns the problems (empty: every response reached its client intact). */
    static List<String> run(InetSocketAddress proxy, int clients, int requestsEach, Duration timeout)
            throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(clients);
        try {
            for (int i = 0; i < clients; i++) {
                int id = i;
                new Bootstrap().group(group).channel(NioSocketChannel.class)
                        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeout.toMillis())
                        .handler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel ch) {
                                ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20),
                                        new Client(id, requestsEach, problems, done));
                            }
                        })
                        .connect(proxy).addListener(f -> {
                            if (!f.isSuccess()) {
                                problems.add("client " + id + ": cannot connect: " + f.cause());
                                done.countDown();
                            }
                        });
            }
            if (!done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                problems.add((done.getCount()) + " clients did not finish within " + timeout);
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
        return List.copyOf(problems);
    }

    private static final class Client extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final int id;
        private final int requests;
        private final ConcurrentLinkedQueue<String> problems;
        private final CountDownLatch done;
        private int k;
        private String path;
        private String body;
        private boolean finished;

        Client(int id, int requests, ConcurrentLinkedQueue<String> problems, CountDownLatch done) {
            this.id = id;
            this.requests = requests;
            this.problems = problems;
            this.done = done;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            sendNext(ctx);
        }

        private void sendNext(ChannelHandlerContext ctx) {
            path = "/echo/many" + id + "/r" + k;
            body = "b-" + id + "-" + k + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            FullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path,
                    Unpooled.wrappedBuffer(b));
            req.headers().set(HttpHeaderNames.HOST, "test").setInt(HttpHeaderNames.CONTENT_LENGTH, b.length);
            ctx.writeAndFlush(req);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
            String got = r.content().toString(StandardCharsets.UTF_8);
            if (r.status().code() != 200 || !got.equals(expected(path, body))) {
                problems.add("client " + id + " request " + k + ": " + r.status() + " \"" + got + "\" for " + path);
            }
            if (++k < requests) {
                sendNext(ctx);
            } else {
                finish();
                ctx.close();
            }
        }

        private void finish() {
            if (!finished) {
                finished = true;
                done.countDown();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            problems.add("client " + id + ": " + cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!finished) {
                problems.add("client " + id + ": connection closed after " + k + " responses");
                finish();
            }
        }
    }
}
