package io.mancom.core.internal.daemon;

import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.NettyRuntime;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * {@code ManCom-Carry: fds}: turns each TCP socket the daemon hands over into a channel of the
 * service. For every descriptor, in order, it first writes the {@code A} that tells the daemon
 * the socket is taken, and only once that is written registers the socket with the runtime (which
 * turns reading on): a socket whose {@code A} never left has not been read from, so the daemon
 * can give it to the next process bytes and all.
 *
 * <p>Runs on the attach connection's event loop; the adopted sockets go to any loop of the group.
 */
final class DescriptorReceiver extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(DescriptorReceiver.class);
    private static final byte[] ADOPTED = {'A'};

    private final NettyRuntime runtime;
    private final ChannelSink sink;
    private final boolean noDelay;
    private final boolean keepAlive;

    DescriptorReceiver(NettyRuntime runtime, ChannelSink sink, boolean noDelay, boolean keepAlive) {
        this.runtime = runtime;
        this.sink = sink;
        this.noDelay = noDelay;
        this.keepAlive = keepAlive;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FileDescriptor fd)) {
            ReferenceCountUtil.release(msg);
            log.warn("service '{}': the daemon sent {} where a socket descriptor belongs; detaching", sink.service(), msg);
            ctx.close();
            return;
        }
        EpollSocketChannel socket;
        try {
            socket = new EpollSocketChannel(fd.intValue());
        } catch (RuntimeException e) {
            closeQuietly(fd);
            log.warn("service '{}': cannot take the socket the daemon handed over: {}", sink.service(), e.toString());
            ctx.writeAndFlush(Unpooled.wrappedBuffer(ADOPTED)); // still ours to answer: it is gone now
            return;
        }
        socket.config().setAutoRead(false);
        socket.config().setOption(ChannelOption.ALLOCATOR, runtime.alloc());
        socket.config().setTcpNoDelay(noDelay);
        socket.config().setKeepAlive(keepAlive);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(ADOPTED)).addListener((ChannelFutureListener) acked -> {
            if (!acked.isSuccess()) {
                // The daemon did not hear that we took it and will hand it to another process: our
                // copy must go unread.
                socket.unsafe().closeForcibly();
                return;
            }
            // The runtime's handlers go in while the socket registers, before any event of it is
            // handled, as a server's accepted sockets get theirs: a peer that sent and half-closed
            // before the hand-off makes Netty read at once (end of input is read with auto-read
            // off), and bytes read before the handlers are in place would be lost.
            socket.pipeline().addLast(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    sink.channelOpened(ch);
                }
            });
            runtime.group().next().register(socket).addListener((ChannelFutureListener) registered -> {
                if (!registered.isSuccess()) {
                    log.warn("service '{}': cannot register a socket handed over by the daemon: {}", sink.service(),
                            registered.cause().toString());
                    socket.unsafe().closeForcibly();
                }
            });
        });
    }

    private static void closeQuietly(FileDescriptor fd) {
        try {
            fd.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
