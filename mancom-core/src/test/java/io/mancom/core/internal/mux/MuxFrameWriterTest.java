package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.helpers.NOPLogger;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The frame writer on an {@link EmbeddedChannel} (encoder, then the writer's context): what goes
 * out in which buffers, and when the link is flushed.
 */
class MuxFrameWriterTest {

    private EmbeddedChannel link;
    private MuxFrameWriter writer;
    private int flushes;
    private int written;
    private final List<String> stalls = new ArrayList<>();
    private final EmbeddedChannel parser = new EmbeddedChannel(new MuxFrameDecoder());

    @BeforeEach
    void setUp() {
        link = new EmbeddedChannel();
        link.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
            @Override
            public void flush(ChannelHandlerContext ctx) {
                flushes++;
                ctx.flush();
            }
        });
        link.pipeline().addLast(MuxFrameEncoder.INSTANCE);
        ChannelInboundHandlerAdapter anchor = new ChannelInboundHandlerAdapter();
        link.pipeline().addLast(anchor);
        writer = new MuxFrameWriter(link.pipeline().context(anchor), () -> written++, stalls::add,
                new MuxFrameLogger(NOPLogger.NOP_LOGGER));
    }

    @AfterEach
    void tearDown() {
        writer.dropCoalesced();
        link.finishAndReleaseAll();
        parser.finishAndReleaseAll();
    }

    /** The buffers the link was handed (and flushed), in order; the caller releases them. */
    private List<ByteBuf> sent() {
        List<ByteBuf> out = new ArrayList<>();
        ByteBuf b;
        while ((b = link.readOutbound()) != null) {
            out.add(b);
        }
        return out;
    }

    /** The frames in {@code buffers} (released), as "type id length". */
    private List<String> frames(List<ByteBuf> buffers) {
        for (ByteBuf b : buffers) {
            parser.writeInbound(b);
        }
        List<String> out = new ArrayList<>();
        MuxFrame f;
        while ((f = parser.readInbound()) != null) {
            out.add(f.type() + " " + f.streamId() + " " + f.length());
            f.release();
        }
        return out;
    }

    private static MuxFrame data(int id, int size) {
        return MuxFrame.data(id, Unpooled.wrappedBuffer(new byte[size]));
    }

    @Test
    void smallFramesShareOneBufferAndNothingGoesOutBeforeTheFlush() {
        writer.write(MuxFrame.control(MuxFrame.Type.OPEN_STREAM, 2));
        writer.write(data(2, 100));
        writer.write(MuxFrame.windowUpdate(4, 1000));
        assertThat(written).isEqualTo(3);
        assertThat(link.outboundMessages()).isEmpty();
        assertThat(flushes).isZero();

        writer.flush();
        List<ByteBuf> sent = sent();
        assertThat(sent).hasSize(1);
        assertThat(sent.get(0).readableBytes()).isEqualTo(3 * MuxFrame.HEADER_SIZE + 100);
        assertThat(frames(sent)).containsExactly("OPEN_STREAM 2 0", "DATA 2 100", "WINDOW_UPDATE 4 1000");
        assertThat(flushes).isEqualTo(1);
    }

    @Test
    void aLargeDataFrameGoesOutUncopiedBehindTheFramesBeforeIt() {
        ByteBuf payload = Unpooled.wrappedBuffer(new byte[MuxFrameEncoder.COPY_THRESHOLD + 1]);
        writer.write(MuxFrame.control(MuxFrame.Type.OPEN_STREAM, 2));
        writer.write(MuxFrame.data(2, payload));
        writer.write(MuxFrame.control(MuxFrame.Type.CLOSE_READ, 2));
        writer.flush();
        List<ByteBuf> sent = sent();
        // Coalesced OpenStream, the Data header, the payload itself, coalesced CloseRead.
        assertThat(sent).hasSize(4);
        assertThat(sent.get(2)).isSameAs(payload);
        assertThat(frames(sent)).containsExactly("OPEN_STREAM 2 0", "DATA 2 " + (MuxFrameEncoder.COPY_THRESHOLD + 1),
                "CLOSE_READ 2 0");
    }

    @Test
    void theSharedBufferIsHandedOnAtEachChunkWithoutAFlush() {
        int frame = MuxFrame.HEADER_SIZE + MuxFrameEncoder.COPY_THRESHOLD;
        int count = MuxFrameWriter.COALESCE_CHUNK / frame + 2;
        for (int i = 0; i < count; i++) {
            writer.write(data(2, MuxFrameEncoder.COPY_THRESHOLD));
        }
        assertThat(flushes).isZero();
        writer.flush();
        List<ByteBuf> sent = sent();
        assertThat(sent).hasSize(2);
        assertThat(sent.get(0).readableBytes()).isGreaterThanOrEqualTo(MuxFrameWriter.COALESCE_CHUNK)
                .isLessThan(MuxFrameWriter.COALESCE_CHUNK + frame);
        assertThat(frames(sent)).hasSize(count);
    }

    @Test
    void flushSoonFlushesOnceAtTheEndOfTheTurn() {
        writer.write(MuxFrame.keepalive());
        writer.flushSoon();
        writer.write(MuxFrame.keepalive());
        writer.flushSoon();
        assertThat(flushes).as("not before the turn ends").isZero();
        link.runPendingTasks();
        assertThat(flushes).isEqualTo(1);
        assertThat(frames(sent())).hasSize(2);
        link.runPendingTasks();
        assertThat(flushes).as("nothing asked for since").isEqualTo(1);
        writer.flushSoon();
        link.runPendingTasks();
        assertThat(flushes).as("scheduled again after the first ran").isEqualTo(2);
    }

    @Test
    void inABatchTheFlushWaitsForTheBatchToEnd() {
        writer.startBatch();
        writer.write(MuxFrame.keepalive());
        writer.flushSoon();
        link.runPendingTasks();
        assertThat(flushes).isZero();
        writer.write(MuxFrame.keepalive());
        writer.flushSoon();
        writer.endBatch();
        assertThat(flushes).isEqualTo(1);
        assertThat(frames(sent())).hasSize(2);
        writer.startBatch();
        writer.endBatch();
        assertThat(flushes).as("a batch that asked for nothing flushes nothing").isEqualTo(1);
    }

    @Test
    void aScheduledFlushThatFindsABatchRunningLeavesTheFlushToIt() {
        writer.write(MuxFrame.keepalive());
        writer.flushSoon();
        writer.startBatch();
        link.runPendingTasks();
        assertThat(flushes).isZero();
        writer.endBatch();
        assertThat(flushes).isEqualTo(1);
        assertThat(frames(sent())).hasSize(1);
    }

    @Test
    void afterStopFramesAreDroppedButTheLastFrameStillFollowsWhatWasQueued() {
        writer.write(MuxFrame.control(MuxFrame.Type.CLOSE_STREAM, 2));
        writer.stop();
        ByteBuf payload = Unpooled.wrappedBuffer(new byte[10]);
        writer.write(MuxFrame.data(2, payload));
        assertThat(payload.refCnt()).as("released").isZero();
        assertThat(written).isEqualTo(1);
        writer.writeLast(MuxFrame.control(MuxFrame.Type.CLOSE_MUX, 0));
        assertThat(frames(sent())).containsExactly("CLOSE_STREAM 2 0", "CLOSE_MUX 0 0");
    }

    @Test
    void writesFromElsewhereGoBehindTheCoalescedFrames() {
        writer.write(MuxFrame.control(MuxFrame.Type.OPEN_STREAM, 2));
        writer.writeCoalesced();
        link.writeAndFlush(MuxFrame.keepalive());
        assertThat(frames(sent())).containsExactly("OPEN_STREAM 2 0", "KEEPALIVE 0 0");
    }

    @Test
    void droppedCoalescedFramesNeverGoOut() {
        writer.write(MuxFrame.control(MuxFrame.Type.OPEN_STREAM, 2));
        writer.dropCoalesced();
        writer.flush();
        assertThat(sent()).isEmpty();
        assertThat(stalls).isEmpty();
    }
}
