package io.mancom.core.internal;

import com.typesafe.config.ConfigFactory;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.core.spi.ServiceSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link ConnectionHandler} on an {@link EmbeddedChannel}: the events its Inbound sees, and its hot-path tricks. */
class ConnectionHandlerTest {
    private static final int LOW = 1024;
    private static final int HIGH = 4096;
    private static final ServiceSettings SETTINGS = new ServiceSettings("svc", EndPoint.of(new TcpAddress("127.0.0.1", 1)),
            "echo", Duration.ofSeconds(5), new ServiceSettings.WriteBuffer(LOW, HIGH, 1 << 20),
            new ServiceSettings.Blocking(64 * 1024, 4), new ServiceSettings.Reconnect(false, Duration.ofSeconds(1), Duration.ofSeconds(1)),
            ConfigFactory.empty());

    private final List<String> events = new ArrayList<>();
    private BiConsumer<ChannelConnection, ByteBuf> onData = (c, b) -> { };
    private EmbeddedChannel channel;
    /** Counted apart from {@link #events}, which the other tests compare as a whole. */
    private int readCompletes;
    private ChannelConnection connection;

    /** Records the events in order; data as text. It owns each buffer, as Inbound says. */
    private final Inbound recorder = new Inbound() {
        @Override
        public void opened(ChannelConnection c) {
            events.add("opened");
        }

        @Override
        public void data(ChannelConnection c, ByteBuf data) {
            try {
                events.add("data:" + data.toString(StandardCharsets.US_ASCII));
                onData.accept(c, data);
            } finally {
                data.release();
            }
        }

        @Override
        public void readComplete(ChannelConnection c) {
            readCompletes++;
        }

        @Override
        public void inputShutdown(ChannelConnection c) {
            events.add("inputShutdown");
        }

        @Override
        public void closed(ChannelConnection c, Throwable cause) {
            events.add("closed:" + (cause == null ? "clean" : cause.getClass().getSimpleName() + ":" + cause.getMessage()));
        }
    };

    private void open(boolean pausesWhenUnwritable) {
        channel = new EmbeddedChannel();
        channel.config().setAutoRead(false); // as transports hand links over: nothing read before the handler is in place
        connection = new ChannelConnection(7, "svc", channel, SETTINGS.endpoint(), SETTINGS.endpoint(), SETTINGS, recorder,
                pausesWhenUnwritable);
        channel.pipeline().addLast(connection.handler);
    }

    @AfterEach
    void finish() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    @Test
    void anActiveLinkOpensOnceAndStartsReading() {
        open(false);
        assertThat(events).containsExactly("opened");
        assertThat(channel.config().isAutoRead()).as("the gate is open, so reading is on").isTrue();
        channel.pipeline().fireChannelActive(); // a second activation does not open it again
        assertThat(events).containsExactly("opened");
    }

    @Test
    void dataArrivesInOrderAndEmptyBuffersAreDropped() {
        open(false);
        ByteBuf empty = Unpooled.buffer(4);
        channel.writeInbound(ascii("one"), empty, ascii("two"));
        assertThat(events).containsExactly("opened", "data:one", "data:two");
        assertThat(empty.refCnt()).as("the empty buffer is released, not delivered").isZero();
    }

    @Test
    void theEndOfABatchThatDeliveredDataIsAnnouncedOnce() {
        open(false);
        channel.writeInbound(ascii("a"), ascii("b"));
        assertThat(readCompletes).as("one batch of two pieces").isEqualTo(1);
        channel.pipeline().fireChannelReadComplete();
        assertThat(readCompletes).as("a batch that delivered nothing is not announced").isEqualTo(1);
        channel.writeInbound(Unpooled.buffer(4));
        assertThat(readCompletes).as("an empty buffer delivers nothing").isEqualTo(1);
        channel.writeInbound(ascii("c"));
        assertThat(readCompletes).isEqualTo(2);
    }

    @Test
    void aMessageThatIsNoBufferIsReleasedAndReported() {
        open(false);
        DefaultByteBufHolder odd = new DefaultByteBufHolder(ascii("odd"));
        // Passed on as an exception (EmbeddedChannel rethrows what reaches the pipeline's end).
        assertThatThrownBy(() -> channel.writeInbound(odd)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("unexpected message");
        assertThat(odd.refCnt()).isZero();
        assertThat(events).containsExactly("opened");
    }

    @Test
    void theInputShutdownEventComesOnceAndNotAfterTheClose() {
        open(false);
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        channel.close();
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(events).containsExactly("opened", "inputShutdown", "closed:clean");
    }

    @Test
    void anIoFailureClosesTheLinkOnceWithALinkFailedCause() {
        open(false);
        channel.pipeline().fireExceptionCaught(new IOException("connection reset"));
        channel.runPendingTasks();
        assertThat(channel.isOpen()).isFalse();
        // channelInactive and then handlerRemoved (the channel deregistered) both saw the end: one event.
        assertThat(events).hasSize(2);
        assertThat(events.get(1)).startsWith("closed:ManComException:connection #7 (service 'svc'")
                .endsWith("failed: connection reset");
    }

    @Test
    void anotherCauseIsPassedOnAsItIs() {
        open(false);
        ManComException cause = new ManComException(ManComException.Reason.PROTOCOL, "bad frame");
        channel.pipeline().fireExceptionCaught(cause);
        channel.runPendingTasks();
        assertThat(events).containsExactly("opened", "closed:ManComException:bad frame");
    }

    @Test
    void writesInsideAReadBatchAreFlushedOnceAtItsEnd() {
        open(false);
        List<Integer> outboundDuringBatch = new ArrayList<>();
        onData = (c, b) -> {
            c.write(ByteBuffer.wrap(("re:" + b.toString(StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII)));
            outboundDuringBatch.add(channel.outboundMessages().size());
        };
        channel.writeInbound(ascii("a"), ascii("b"));
        assertThat(outboundDuringBatch).as("nothing is flushed while the batch runs").containsExactly(0, 0);
        assertThat(readOutbound()).isEqualTo("re:a");
        assertThat(readOutbound()).isEqualTo("re:b");
    }

    @Test
    void writingTheLentBufferBackSendsThatBufferWithoutACopy() {
        open(false);
        ByteBuf in = ascii("echo me");
        List<ByteBuf> lent = new ArrayList<>();
        onData = (c, b) -> {
            ByteBuffer view = c.handler.lend(b);
            try {
                lent.add(b);
                c.write(view);
                c.write(ByteBuffer.wrap(new byte[]{'!'})); // another buffer is copied
            } finally {
                c.handler.endLoan();
            }
        };
        channel.writeInbound(in);
        ByteBuf echoed = channel.readOutbound();
        try {
            assertThat(echoed.unwrap()).as("a slice of the received buffer").isSameAs(lent.get(0));
            assertThat(echoed.toString(StandardCharsets.US_ASCII)).isEqualTo("echo me");
        } finally {
            echoed.release();
        }
        assertThat(readOutbound()).isEqualTo("!");
        assertThat(in.refCnt()).as("the slice was released with the write, the buffer by its owner").isZero();
    }

    @Test
    void aServedConnectionStopsReadingWhileUnwritableAndTellsItsListener() {
        open(true);
        List<Boolean> told = new ArrayList<>();
        connection.setWritabilityListener((c, writable) -> told.add(writable));
        channel.write(Unpooled.wrappedBuffer(new byte[HIGH + 1])); // queued, not flushed: over high water
        channel.runPendingTasks();
        assertThat(channel.isWritable()).isFalse();
        assertThat(channel.config().isAutoRead()).isFalse();
        channel.flush();
        channel.runPendingTasks();
        assertThat(channel.isWritable()).isTrue();
        assertThat(channel.config().isAutoRead()).isTrue();
        assertThat(told).containsExactly(false, true);
    }

    @Test
    void aClientKeepsReadingWhileUnwritable() {
        open(false);
        channel.write(Unpooled.wrappedBuffer(new byte[HIGH + 1]));
        channel.runPendingTasks();
        assertThat(channel.isWritable()).isFalse();
        assertThat(channel.config().isAutoRead()).isTrue();
    }

    private String readOutbound() {
        ByteBuf b = channel.readOutbound();
        assertThat(b).as("an outbound message").isNotNull();
        try {
            return b.toString(StandardCharsets.US_ASCII);
        } finally {
            b.release();
        }
    }
}
