package io.mancom.core.internal;

import com.typesafe.config.ConfigFactory;
import io.mancom.ChannelStatus;
import io.mancom.EndPoint;
import io.mancom.EventListener;
import io.mancom.ManComException;
import io.mancom.ServiceStatus;
import io.mancom.core.internal.config.Framing;
import io.mancom.core.internal.monitor.Monitor;
import io.mancom.core.internal.monitor.ServiceSource;
import io.mancom.core.spi.ServiceSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A connection's own counters (monitoring) on an EmbeddedChannel: bytes in as the connection
 * handler hands them on, bytes out when a write completes, the write queue, close causes, totals.
 */
class ConnectionStatsTest {
    private static final EndPoint E = EndPoint.tcp("127.0.0.1", 7000);
    private static final ServiceSettings SETTINGS = new ServiceSettings("echo", E, "echo", Duration.ofSeconds(5),
            new ServiceSettings.WriteBuffer(1024, 4096, 1 << 20), new ServiceSettings.Blocking(64 * 1024, 4),
            new ServiceSettings.Reconnect(false, Duration.ofSeconds(1), Duration.ofSeconds(1)), ConfigFactory.empty());
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

    /** Takes the data and releases it, as the application's receiver would. */
    private static final Inbound DROP = new Inbound() {
        @Override
        public void opened(ChannelConnection c) {
        }

        @Override
        public void data(ChannelConnection c, ByteBuf data) {
            data.release();
        }

        @Override
        public void readComplete(ChannelConnection c) {
        }

        @Override
        public void inputShutdown(ChannelConnection c) {
        }

        @Override
        public void closed(ChannelConnection c, Throwable cause) {
        }
    };

    /** Holds the promises of writes, as a socket with a full buffer does, until released. */
    private static final class Holder extends ChannelOutboundHandlerAdapter {
        final List<ChannelPromise> held = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ReferenceCountUtil.release(msg);
            held.add(promise);
        }
    }

    private EmbeddedChannel ch;

    /** A tracked connection on a fresh channel: {@code holder} (or nothing) as its socket, then {@code framing}. */
    private ChannelConnection open(Holder holder, Framing framing) {
        ch = new EmbeddedChannel();
        if (holder != null) {
            ch.pipeline().addLast(holder);
        }
        ChannelConnection c = new ChannelConnection(7, "echo", ch, E, E, SETTINGS, DROP, false,
                framing.kind() == Framing.Kind.LENGTH_FIELD ? framing.lengthField() : 0);
        monitor.track(c, true);
        FramingHandlers.addTo(ch.pipeline(), framing, "echo");
        ch.pipeline().addLast(c.handler);
        return c;
    }

    private static ByteBuffer bytes(int n) {
        return ByteBuffer.wrap(new byte[n]);
    }

    private ChannelStatus status() {
        return monitor.status().channel(7).orElseThrow();
    }

    @Test
    void countsBytesInAndOutExactly() {
        ChannelConnection c = open(null, Framing.NONE);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[100]));
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[23]));
        c.write(bytes(50));
        c.write(bytes(7));
        ChannelStatus s = status();
        assertThat(s.bytesIn()).isEqualTo(123);
        assertThat(s.bytesOut()).isEqualTo(57);
        assertThat(s.lastRead()).isNotNull();
        assertThat(s.lastWrite()).isNotNull();
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
        ChannelConnection c = open(holder, Framing.NONE);
        c.write(bytes(10));
        c.write(bytes(20));
        c.write(bytes(40));
        ChannelStatus queued = status();
        assertThat(queued.bytesOut()).isZero();
        assertThat(queued.lastWrite()).isNull();
        assertThat(queued.writeQueueBytes()).isEqualTo(70);
        holder.held.get(0).setSuccess();
        holder.held.get(1).setFailure(new IOException("broken pipe"));
        ChannelStatus after = status();
        assertThat(after.bytesOut()).as("the failed write is not sent").isEqualTo(10);
        assertThat(after.lastWrite()).isNotNull();
        assertThat(after.writeQueueBytes()).isEqualTo(40);
        holder.held.get(2).setSuccess();
        assertThat(status().bytesOut()).isEqualTo(50);
        ch.finishAndReleaseAll();
    }

    @Test
    void aLengthPrefixCountsAsTheBytesOnTheLink() {
        ChannelConnection c = open(null, new Framing(Framing.Kind.LENGTH_FIELD, 2, 1024));
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{0, 5, 1, 2, 3, 4, 5, 0, 0}));
        c.write(bytes(3));
        c.write(bytes(0)); // sends nothing, framed or not
        ByteBuf prefix = ch.readOutbound();
        ByteBuf body = ch.readOutbound();
        assertThat(prefix.readableBytes() + body.readableBytes()).isEqualTo(5);
        prefix.release();
        body.release();
        ChannelStatus s = status();
        assertThat(s.bytesIn()).as("two messages (5 bytes and empty), each with its 2-byte prefix").isEqualTo(9);
        assertThat(s.bytesOut()).isEqualTo(5);
        ch.finishAndReleaseAll();
    }

    @Test
    void aFailureIsTheCloseCauseAndCountsUnderItsReason() {
        open(null, Framing.NONE);
        ch.pipeline().fireExceptionCaught(new IOException("Connection reset by peer"));
        ch.close();
        assertThat(events).last().isEqualTo("close 7 0/0 LINK_FAILED: Connection reset by peer");
        assertThat(monitor.status().service("echo").orElseThrow().errors(ManComException.Reason.LINK_FAILED))
                .isEqualTo(1);
        ch.finishAndReleaseAll();
    }

    @Test
    void aPeerCloseSaysSo() {
        open(null, Framing.NONE);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[5]));
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        ch.close();
        assertThat(events).last().isEqualTo("close 7 5/0 closed by the peer");
        ch.finishAndReleaseAll();
    }

    @Test
    void aWriteOverMaxPendingIsAnErrorThatClosesNothing() {
        ChannelConnection c = open(new Holder(), Framing.NONE);
        c.write(bytes(1 << 20));
        assertThat(c.write(bytes(1)).toCompletableFuture()).isCompletedExceptionally();
        assertThat(monitor.status().service("echo").orElseThrow().errors(ManComException.Reason.WRITE_QUEUE_FULL))
                .isEqualTo(1);
        assertThat(status().state()).isEqualTo(ChannelStatus.State.OPEN);
        ch.finishAndReleaseAll();
    }
}
