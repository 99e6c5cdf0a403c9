package io.mancom.core.internal.daemon;

import io.mancom.EndPoint;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.device.DeviceChannel;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ManCom-Carry: device}: turns the serial line the daemon hands over into the service's
 * one connection, a {@link DeviceChannel} on this process's copy of the line's descriptor
 * ({@link DescriptorLine}). As for sockets it writes {@code A} before the line is read (the
 * channel registers only once the {@code A} is written), and it writes {@code C} when the line's
 * channel closes (the application closed it, or the device failed), after its copy is closed: the
 * daemon then closes the line and hands the reopened one over, as its relay did.
 *
 * <p>When the attach connection ends, the line is closed here too: the daemon gives it to the next
 * process, and two processes must not read one line. Runs on the attach connection's event loop;
 * the line's channel is on any loop of the group.
 */
final class LineReceiver extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(LineReceiver.class);
    private static final byte[] ADOPTED = {'A'};
    private static final byte[] CLOSED = {'C'};

    private final NettyRuntime runtime;
    private final ChannelSink sink;
    private final EndPoint endpoint;
    private volatile DeviceChannel line;
    /** Set by {@link #detach()}: the line is closed because the process detaches, not to be reopened. */
    private volatile boolean detaching;

    LineReceiver(NettyRuntime runtime, ChannelSink sink, EndPoint endpoint) {
        this.runtime = runtime;
        this.sink = sink;
        this.endpoint = endpoint;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FileDescriptor fd)) {
            ReferenceCountUtil.release(msg);
            log.warn("service '{}': the daemon sent {} where a line's descriptor belongs; detaching", sink.service(), msg);
            ctx.close();
            return;
        }
        Channel attach = ctx.channel();
        DeviceChannel ch = new DeviceChannel(new DescriptorLine(fd, endpoint), runtime.blockingExecutor());
        ch.config().setAllocator(runtime.alloc());
        ch.config().setAutoRead(false); // the runtime turns reading on once its handlers are in place
        ch.attr(ChannelSink.LOCAL_ENDPOINT).set(endpoint);
        ch.attr(ChannelSink.REMOTE_ENDPOINT).set(endpoint);
        if (line != null) {
            log.warn("service '{}': the daemon handed over a line while this process still had one; closing that",
                    sink.service());
            closeLine();
        }
        line = ch;
        // C once the line is closed here, whichever way: its copy is then closed (the channel
        // closes its link on a blocking thread; the release says when).
        ch.closeFuture().addListener(f -> sayClosed(attach, ch, this));
        attach.writeAndFlush(Unpooled.wrappedBuffer(ADOPTED)).addListener((ChannelFutureListener) acked -> {
            if (!acked.isSuccess()) {
                ch.unsafe().closeForcibly(); // the daemon did not hear it: the line is not ours
                return;
            }
            runtime.group().next().register(ch).addListener((ChannelFutureListener) registered -> {
                if (!registered.isSuccess()) {
                    log.warn("service '{}': cannot register the line the daemon handed over: {}", sink.service(),
                            registered.cause().toString());
                    ch.unsafe().closeForcibly(); // no close event then: say it here
                    sayClosed(attach, ch, this);
                    return;
                }
                ch.eventLoop().execute(() -> {
                    if (ch.isOpen() && attach.isActive()) {
                        sink.channelOpened(ch);
                    } else {
                        ch.close();
                    }
                });
            });
        });
    }

    /**
     * Writes {@code C} once {@code ch}'s copy of the line is closed, if the attach connection is still
     * there and the process is not detaching (a detach keeps the line open in the daemon, its
     * waiting input for the next process; a C would make the daemon close and reopen it).
     */
    private static void sayClosed(Channel attach, DeviceChannel ch, LineReceiver receiver) {
        ch.releaseFuture().thenRun(() -> {
            if (attach.isActive() && !receiver.detaching) {
                attach.writeAndFlush(Unpooled.wrappedBuffer(CLOSED));
            }
        });
    }

    /**
     * The process detaches: closes its copy of the line without a {@code C}; the future completes
     * when the channel is closed, null if there was none.
     */
    ChannelFuture detach() {
        detaching = true;
        return closeLine();
    }

    /**
     * Closes this process's copy of the line, if it has one; the future completes when the channel
     * is closed, null if there was none.
     */
    private ChannelFuture closeLine() {
        DeviceChannel ch = line;
        if (ch == null) {
            return null;
        }
        if (!ch.isRegistered()) {
            ch.unsafe().closeForcibly(); // not adopted yet: no loop to close it on
            return null;
        }
        return ch.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeLine(); // the daemon gives the line to the next process now
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("service '{}': attach connection failed: {}", sink.service(), cause.toString());
        ctx.close();
    }
}
