package io.mancom.core.internal;

import io.mancom.ManComException;
import io.mancom.core.internal.config.Framing;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The handlers each framing puts in front of the connection handler, on an {@link EmbeddedChannel}. */
class FramingHandlersTest {
    private final AtomicReference<Throwable> caught = new AtomicReference<>();

    private EmbeddedChannel channel(Framing framing) {
        EmbeddedChannel ch = new EmbeddedChannel();
        FramingHandlers.addTo(ch.pipeline(), framing, "svc");
        // Stands where the connection handler stands: records what reaches it.
        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                caught.set(cause);
            }
        });
        return ch;
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    private static String readText(EmbeddedChannel ch, boolean inbound) {
        ByteBuf b = inbound ? ch.readInbound() : ch.readOutbound();
        if (b == null) {
            return null;
        }
        try {
            return b.toString(StandardCharsets.UTF_8);
        } finally {
            b.release();
        }
    }

    private static String readOutboundBytes(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (ByteBuf b; (b = ch.readOutbound()) != null; ) {
            while (b.isReadable()) {
                sb.append(String.format("%02x", b.readByte()));
            }
            b.release();
        }
        return sb.toString();
    }

    @Test
    void noneAddsNothing() {
        EmbeddedChannel ch = channel(Framing.NONE);
        assertThat(ch.pipeline().get(FramingHandlers.DECODER)).isNull();
        ch.writeInbound(text("a\nb"));
        assertThat(readText(ch, true)).isEqualTo("a\nb");
        ch.finishAndReleaseAll();
    }

    @Test
    void linesArriveWholeWithTheirNewline() {
        EmbeddedChannel ch = channel(new Framing(Framing.Kind.LINES, 0, 100));
        ch.writeInbound(text("one\ntw"));
        ch.writeInbound(text("o\r\nthr"));
        assertThat(readText(ch, true)).isEqualTo("one\n");
        assertThat(readText(ch, true)).isEqualTo("two\r\n");
        assertThat((Object) ch.readInbound()).isNull();
        // Writes go out as written: the application adds its newlines.
        ch.writeOutbound(text("x\n"));
        assertThat(readText(ch, false)).isEqualTo("x\n");
        ch.finishAndReleaseAll();
    }

    @Test
    void aLengthFieldIsStrippedOnTheWayInAndAddedToEachWrite() {
        EmbeddedChannel ch = channel(new Framing(Framing.Kind.LENGTH_FIELD, 2, 100));
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{0, 3, 'a', 'b'}));
        assertThat((Object) ch.readInbound()).isNull();
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{'c', 0, 0, 0, 1, 'd'}));
        assertThat(readText(ch, true)).isEqualTo("abc");
        assertThat(readText(ch, true)).isEqualTo("");
        assertThat(readText(ch, true)).isEqualTo("d");

        ch.writeOutbound(text("hi"));
        assertThat(readOutboundBytes(ch)).isEqualTo("00026869");
        ch.finishAndReleaseAll();
    }

    @Test
    void anEmptyWriteIsNotAnEmptyMessage() {
        // The runtime writes an empty buffer before closing, to know every earlier write is out.
        EmbeddedChannel ch = channel(new Framing(Framing.Kind.LENGTH_FIELD, 4, 100));
        ch.writeOutbound(Unpooled.EMPTY_BUFFER);
        assertThat(readOutboundBytes(ch)).isEmpty();
        ch.finishAndReleaseAll();
    }

    @Test
    void aLineOverTheLimitIsAProtocolErrorNamingTheLimit() {
        EmbeddedChannel ch = channel(new Framing(Framing.Kind.LINES, 0, 8));
        ch.writeInbound(text("0123456789"));
        assertThat(caught.get()).isInstanceOfSatisfying(ManComException.class,
                        e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.PROTOCOL))
                .hasMessageContaining("service 'svc': the peer sent a line longer than framing.max-length (8 bytes)");
        ch.finishAndReleaseAll();
    }

    @Test
    void aMessageOverTheLimitIsAProtocolErrorToo() {
        EmbeddedChannel ch = channel(new Framing(Framing.Kind.LENGTH_FIELD, 4, 8));
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{0, 0, 0, 9}));
        assertThat(caught.get()).isInstanceOf(ManComException.class)
                .hasMessageContaining("a message longer than framing.max-length (8 bytes)");
        ch.finishAndReleaseAll();
    }

    @Test
    void aMessageOfExactlyTheLimitPasses() {
        EmbeddedChannel ch = channel(new Framing(Framing.Kind.LENGTH_FIELD, 1, 3));
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[]{3, 'a', 'b', 'c'}));
        assertThat(readText(ch, true)).isEqualTo("abc");
        assertThat(caught.get()).isNull();
        ch.finishAndReleaseAll();
    }
}
