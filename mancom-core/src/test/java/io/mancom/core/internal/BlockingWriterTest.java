package io.mancom.core.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link BlockingWriter} on an {@link EmbeddedChannel}, whose loop runs queued tasks only when
 * told: writes made before the loop runs go out in one task and one flush, in order, and count
 * against the channel's room while they wait. (That they also go out before a close made after
 * them is TcpContractTest's: an EmbeddedChannel runs pending tasks from inside a write.)
 */
class BlockingWriterTest {
    private final List<String> seen = new ArrayList<>();
    private int drains;
    private EmbeddedChannel channel;

    private BlockingWriter writer(int low, int high) {
        channel = new EmbeddedChannel(new ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(ChannelHandlerContext ctx) {
                seen.add("flush");
                ctx.flush();
            }
        });
        channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(low, high));
        return new BlockingWriter(channel, () -> drains++);
    }

    @AfterEach
    void release() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    private List<String> written() {
        List<String> out = new ArrayList<>();
        for (ByteBuf b; (b = channel.readOutbound()) != null; ) {
            out.add(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return out;
    }

    @Test
    void writesMadeWhileTheLoopIsBusyGoOutInOneTaskAndOneFlushInOrder() {
        BlockingWriter w = writer(1024, 4096);
        ByteBuffer a = ascii("one");
        assertThat(w.write(a)).isTrue();
        assertThat(a.remaining()).as("the caller's buffer is copied, not consumed").isEqualTo(3);
        w.write(ascii("two"));
        w.write(ascii("three"));
        assertThat(channel.outboundMessages()).as("nothing before the loop runs").isEmpty();

        channel.runPendingTasks();

        assertThat(seen).containsExactly("flush");
        assertThat(drains).isEqualTo(1);
        assertThat(written()).containsExactly("one", "two", "three");
    }

    @Test
    void aWriteAfterADrainSchedulesAnotherOne() {
        BlockingWriter w = writer(1024, 4096);
        w.write(ascii("one"));
        channel.runPendingTasks();
        w.write(ascii("two"));
        channel.runPendingTasks();
        assertThat(seen).containsExactly("flush", "flush");
        assertThat(drains).isEqualTo(2);
        assertThat(written()).containsExactly("one", "two");
    }

    @Test
    void queuedBytesCountAgainstTheChannelsRoom() {
        BlockingWriter w = writer(8, 16);
        assertThat(w.hasRoom()).isTrue();
        w.write(ascii("0123456789"));
        assertThat(w.hasRoom()).as("10 queued, the channel takes 17 before its high-water mark").isTrue();
        w.write(ascii("0123456789"));
        assertThat(w.hasRoom()).as("20 queued: a write now would go past the mark").isFalse();
        channel.runPendingTasks();
        // EmbeddedChannel sends what is flushed at once: the outbound buffer is empty again.
        assertThat(w.hasRoom()).isTrue();
        assertThat(written()).containsExactly("0123456789", "0123456789");
    }
}
