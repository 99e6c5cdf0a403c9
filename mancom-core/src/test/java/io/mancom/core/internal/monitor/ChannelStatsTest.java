package io.mancom.core.internal.monitor;

import io.mancom.ChannelStatus;
import io.mancom.EndPoint;
import io.mancom.EventListener;
import io.mancom.ManComException;
import io.mancom.ServiceStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The counting handler on an EmbeddedChannel: bytes in, bytes out on completion, close causes, totals. */
class ChannelStatsTest {
    private static final EndPoint E = EndPoint.tcp("127.0.0.1", 7000);
    private final List<String> events = new ArrayList<>();
    private final Monitor monitor = new Monitor(Map.of("echo", E),
            s -> new ServiceSource.ServiceState(ServiceStatus.State.LISTENING, null, ServiceStatus.Style.CALLBACKS, E),
            new EventListener() {
                @Override
                public void connectionOpened(ChannelStatus c) {
                    events.add("open " + c.id());
                }

                @Override
                public void connectionClosed(ChannelStatus c, Throwable cause) {
                    events.add("close " + c.id() + " " + c.bytesIn() + "/" + c.bytesOut() + " " + c.closeCause());
                }
            });

    /** Holds the promises of writes, as a socket with a full buffer does, until released. */
    private static final class Holder extends ChannelOutboundHandlerAdapter {
        final List<ChannelPromise> held = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ReferenceCountUtil.release(msg);
            held.add(promise);
        }
    }

    private EmbeddedChannel channel(Holder holder) {
        EmbeddedChannel ch = new EmbeddedChannel(new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                // the connection handler's part: it closes; here the test does
            }
        });
        monitor.track(ch, 7, "echo", E, E, true);
        if (holder != null) {
            ch.pipeline().addFirst(holder); // between the counter and the "socket"
        }
        return ch;
    }

    @Test
    void countsBytesInAndOutExactly() {
        EmbeddedChannel ch = channel(null);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[100]));
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[23]));
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[50]));
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[7]), ch.voidPromise());
        ChannelStatus s = monitor.status().channel(7).orElseThrow();
        assertThat(s.bytesIn()).isEqualTo(123);
        assertThat(s.bytesOut()).isEqualTo(57);
        assertThat(s.lastRead()).isNotNull();
        assertThat(s.writeQueueBytes()).isZero();
        ch.close();
        assertThat(monitor.status().channels()).isEmpty();
        ServiceStatus echo = monitor.status().service("echo").orElseThrow();
        assertThat(echo.bytesIn()).isEqualTo(123);
        assertThat(echo.bytesOut()).isEqualTo(57);
        assertThat(echo.acceptedTotal()).isEqualTo(1);
        assertThat(events).containsExactly("open 7", "close 7 123/57 closed here");
        ch.finishAndReleaseAll();
    }

    @Test
    void bytesOutCountOnlyWritesThatCompleted() {
        Holder holder = new Holder();
        EmbeddedChannel ch = channel(holder);
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[10]));
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[20]));
        ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[40]));
        ChannelStatus queued = monitor.status().channel(7).orElseThrow();
        assertThat(queued.bytesOut()).isZero();
        assertThat(queued.writeQueueBytes()).isEqualTo(70);
        holder.held.get(0).setSuccess();
        holder.held.get(1).setFailure(new IOException("broken pipe"));
        ChannelStatus after = monitor.status().channel(7).orElseThrow();
        assertThat(after.bytesOut()).as("the failed write is not sent").isEqualTo(10);
        assertThat(after.writeQueueBytes()).isEqualTo(40);
        holder.held.get(2).setSuccess();
        assertThat(monitor.status().channel(7).orElseThrow().bytesOut()).isEqualTo(50);
        ch.finishAndReleaseAll();
    }

    @Test
    void aFailureIsTheCloseCauseAndCountsUnderItsReason() {
        EmbeddedChannel ch = channel(null);
        ch.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        ch.close();
        assertThat(events).last().isEqualTo("close 7 0/0 LINK_FAILED: Connection reset by peer");
        assertThat(monitor.status().service("echo").orElseThrow().errors(ManComException.Reason.LINK_FAILED))
                .isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void aPeerCloseSaysSo() {
        EmbeddedChannel ch = channel(null);
        ByteBuf data = Unpooled.wrappedBuffer(new byte[5]);
        ch.writeInbound(data);
        ch.pipeline().fireUserEventTriggered(io.netty.channel.socket.ChannelInputShutdownEvent.INSTANCE);
        ch.close();
        assertThat(events).last().isEqualTo("close 7 5/0 closed by the peer");
        ch.finishAndReleaseAll();
    }
}
