package io.mancom.core.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A half-closed epoll socket that went idle (input done, queue drained: an empty interest set)
 * must still be able to wait for room to write. Netty 4.2.18 alone drops it from the epoll set
 * there and the next write that needs EPOLLOUT fails ({@link EpollKeepRegistered}).
 */
class EpollKeepRegisteredTest {
    private EventLoops loops;

    @BeforeEach
    void start() {
        if ("true".equals(System.getenv("CI"))) {
            Epoll.ensureAvailability();
        }
        assumeTrue(Epoll.isAvailable(), "epoll is not available here: " + Epoll.unavailabilityCause());
        loops = new EventLoops(1);
        assumeTrue(loops.isNative(), "-Dmancom.native=false: the runtime uses NIO");
    }

    @AfterEach
    void stop() {
        if (loops != null) {
            loops.shutdown();
        }
    }

    @RepeatedTest(5)
    void aHalfClosedSocketThatWentIdleCanStillWaitForRoomToWrite() throws Exception {
        byte[] first = new byte[256 << 10];
        byte[] second = new byte[1 << 20];
        new Random(3).nextBytes(first);
        new Random(4).nextBytes(second);
        Channel server = new ServerBootstrap().group(loops.group()).channel(loops.serverSocketChannelType())
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.SO_SNDBUF, 16 << 10)
                .childHandler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                        if (evt != ChannelInputShutdownEvent.INSTANCE) {
                            return;
                        }
                        // The first answer needs several rounds of EPOLLOUT; while it drains, the
                        // loop sees the ended input again and drops EPOLLIN. Once it is written the
                        // interest set is empty; the second answer must wait for room again.
                        ByteBuf a = ctx.alloc().buffer(first.length).writeBytes(first);
                        ctx.writeAndFlush(a).addListener((ChannelFutureListener) f -> ctx.executor().execute(() -> {
                            ByteBuf b = ctx.alloc().buffer(second.length).writeBytes(second);
                            ctx.writeAndFlush(b).addListener(ChannelFutureListener.CLOSE);
                        }));
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        try (Socket c = new Socket()) {
            c.setReceiveBufferSize(16 << 10);
            c.setSoTimeout(20_000);
            c.connect(server.localAddress());
            c.getOutputStream().write('x');
            c.shutdownOutput();
            InputStream in = c.getInputStream();
            byte[] got = in.readAllBytes();
            assertThat(got.length).isEqualTo(first.length + second.length);
            assertThat(Arrays.equals(got, 0, first.length, first, 0, first.length)).isTrue();
            assertThat(Arrays.equals(got, first.length, got.length, second, 0, second.length)).isTrue();
        } finally {
            server.close().sync();
        }
    }
}
