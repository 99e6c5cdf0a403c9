package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The session on an {@link EmbeddedChannel}: frame-exact checks of credit, routing and closing,
 * with no threads and no timing.
 */
class MuxSessionHandlerTest {

    private static final MuxSettings QUIET = MuxSettings.builder().keepaliveInterval(Duration.ZERO).build();
    private static final MuxSettings NONE = QUIET.toBuilder().routing(MuxSettings.Routing.NONE).build();

    private EmbeddedChannel link;
    private MuxSessionHandler session;
    private final List<MuxStreamChannel> accepted = new ArrayList<>();
    private final List<String> services = new ArrayList<>();
    private final EmbeddedChannel parser = new EmbeddedChannel(new MuxFrameDecoder());

    @AfterEach
    void tearDown() {
        accepted.forEach(MuxStreamChannel::close);
        link.finishAndReleaseAll();
        for (MuxFrame f : out()) {
            f.release();
        }
        parser.finishAndReleaseAll();
    }

    private void start(MuxSettings settings, boolean autoRead, boolean halfClosure) {
        link = new EmbeddedChannel();
        session = MuxSessionHandler.install(link, settings, MuxSettings.Role.RESPONDER, (stream, service) -> {
            if ("refuse".equals(service)) {
                return false;
            }
            if ("throw".equals(service)) {
                throw new IllegalStateException("acceptor failure");
            }
            stream.config().setAutoRead(autoRead);
            stream.config().setAllowHalfClosure(halfClosure);
            stream.pipeline().addLast(new StreamHandlers.Collector());
            accepted.add(stream);
            services.add(service);
            return true;
        });
    }

    /** Feeds frames to the session, as bytes, in one read. */
    private void in(ByteBuf... frames) {
        link.writeInbound(Unpooled.wrappedBuffer(frames));
    }

    private static ByteBuf frame(long id, MuxFrame.Type type, int length) {
        ByteBuf b = Unpooled.buffer(8);
        MuxFrameEncoder.writeHeader(b, (int) id, length, type);
        return b;
    }

    private static ByteBuf data(long id, byte[] payload) {
        return Unpooled.wrappedBuffer(frame(id, MuxFrame.Type.DATA, payload.length), Unpooled.wrappedBuffer(payload));
    }

    private static ByteBuf data(long id, String payload) {
        return data(id, payload.getBytes(StandardCharsets.UTF_8));
    }

    /** Every frame the session wrote since the last call. */
    private List<MuxFrame> out() {
        if (link != null) {
            link.runPendingTasks(); // the session's end-of-turn flush
        }
        ByteBuf b;
        while (link != null && (b = link.readOutbound()) != null) {
            parser.writeInbound(b);
        }
        List<MuxFrame> frames = new ArrayList<>();
        MuxFrame f;
        while ((f = parser.readInbound()) != null) {
            frames.add(f);
        }
        return frames;
    }

    /** The lengths of the written frames of one type, releasing all. */
    private List<Integer> out(MuxFrame.Type type) {
        return out(f -> f.type() == type && !f.isHello());
    }

    private List<Integer> out(Predicate<MuxFrame> which) {
        List<Integer> lengths = new ArrayList<>();
        for (MuxFrame f : out()) {
            if (which.test(f)) {
                lengths.add(f.length());
            }
            f.release();
        }
        return lengths;
    }

    private StreamHandlers.Collector collector(int i) {
        return accepted.get(i).pipeline().get(StreamHandlers.Collector.class);
    }

    @Test
    void helloIsTheFirstFrame() {
        start(QUIET, true, false);
        List<MuxFrame> frames = out();
        assertThat(frames).hasSize(1);
        assertThat(frames.get(0).isHello()).isTrue();
        assertThat(frames.get(0).helloCapabilities()).isEqualTo(MuxFrame.CAP_SERVICE_ROUTING);
        assertThat(frames.get(0).helloTieBreak()).isEqualTo(RoleNegotiation.TIE_FIXED_RESPONDER);
    }

    @Test
    void preambleSplitOverFramesIsRoutedAndItsCreditReturned() {
        start(QUIET, true, false);
        out();
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, new byte[]{4, 'e', 'c'}));
        assertThat(accepted).isEmpty();
        assertThat(session.stats().pendingStreams()).isEqualTo(1);
        in(data(0, "hoXY"));
        assertThat(services).containsExactly("echo");
        assertThat(accepted.get(0).service()).isEqualTo("echo");
        assertThat(new String(collector(0).received(), StandardCharsets.UTF_8)).isEqualTo("XY");
        assertThat(session.stats().pendingStreams()).isZero();
        // Credit for all 7 bytes: 5 of preamble, 2 delivered.
        assertThat(out(MuxFrame.Type.WINDOW_UPDATE).stream().mapToInt(Integer::intValue).sum()).isEqualTo(7);
        assertThat(session.stats().bufferedBytes()).isZero();
    }

    @Test
    void aStreamThatDoesNotNameItsServiceWithinTheOpenTimeoutIsRefused() {
        link = new EmbeddedChannel();
        List<io.mancom.core.spi.Refusal> refusals = new ArrayList<>();
        session = MuxSessionHandler.install(link, QUIET.toBuilder().openTimeout(java.time.Duration.ofMillis(500)).build(),
                MuxSettings.Role.RESPONDER, new MuxStreamAcceptor() {
                    @Override
                    public boolean accept(MuxStreamChannel stream, String service) {
                        stream.pipeline().addLast(new StreamHandlers.Collector());
                        accepted.add(stream);
                        return true;
                    }

                    @Override
                    public void refused(io.mancom.core.spi.Refusal why) {
                        refusals.add(why);
                    }
                });
        out();
        link.freezeTime();
        // Stream 0 sends half its preamble, stream 2 nothing; stream 4 names its service in time.
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, new byte[] {4, 'e'}), frame(2, MuxFrame.Type.OPEN_STREAM, 0),
                frame(4, MuxFrame.Type.OPEN_STREAM, 0), data(4, "\4echo"));
        assertThat(session.stats().pendingStreams()).isEqualTo(2);
        link.advanceTimeBy(499, java.util.concurrent.TimeUnit.MILLISECONDS);
        link.runScheduledPendingTasks();
        assertThat(out(MuxFrame.Type.CLOSE_STREAM)).isEmpty();
        link.advanceTimeBy(1, java.util.concurrent.TimeUnit.MILLISECONDS);
        link.runScheduledPendingTasks();
        assertThat(out(f -> f.type() == MuxFrame.Type.CLOSE_STREAM)).hasSize(2);
        assertThat(session.stats().pendingStreams()).isZero();
        assertThat(session.stats().streamsRefused()).isEqualTo(2);
        assertThat(refusals).containsExactly(io.mancom.core.spi.Refusal.OPEN_TIMEOUT, io.mancom.core.spi.Refusal.OPEN_TIMEOUT);
        assertThat(accepted).hasSize(1);
        assertThat(accepted.get(0).isActive()).isTrue(); // the one that named its service is untouched
        assertThat(session.stats().bufferedBytes()).isZero();
    }

    @Test
    void refusedAndFailingAcceptsAnswerCloseStream() {
        start(QUIET, true, false);
        out();
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, "\6refuse"),
                frame(2, MuxFrame.Type.OPEN_STREAM, 0), data(2, "\5throw"),
                frame(4, MuxFrame.Type.OPEN_STREAM, 0), data(4, new byte[]{0}));
        assertThat(out(MuxFrame.Type.CLOSE_STREAM)).hasSize(3);
        assertThat(session.stats().streamsRefused()).isEqualTo(3);
        assertThat(session.stats().openStreams()).isZero();
        assertThat(session.stats().bufferedBytes()).isZero();
    }

    @Test
    void aStalledStreamReturnsNoCreditUntilItReads() {
        start(NONE, false, false);
        out();
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, new byte[1000]), data(0, new byte[500]));
        assertThat(out(MuxFrame.Type.WINDOW_UPDATE)).isEmpty();
        assertThat(session.stats().bufferedBytes()).isEqualTo(1500);
        accepted.get(0).read();
        assertThat(collector(0).count.get()).isEqualTo(1500);
        assertThat(out(MuxFrame.Type.WINDOW_UPDATE)).containsExactly(1500);
        assertThat(session.stats().bufferedBytes()).isZero();
    }

    @Test
    void readWithoutAutoReadDeliversOneBatch() {
        start(NONE, false, false);
        accepted.clear();
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0));
        MuxStreamChannel s = accepted.get(0);
        s.config().setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(2));
        out();
        in(data(0, "a"), data(0, "b"), data(0, "c"));
        s.read();
        assertThat(collector(0).count.get()).isEqualTo(2);
        assertThat(out(MuxFrame.Type.WINDOW_UPDATE)).containsExactly(2);
        s.read();
        assertThat(collector(0).count.get()).isEqualTo(3);
        assertThat(out(MuxFrame.Type.WINDOW_UPDATE)).containsExactly(1);
    }

    @Test
    void windowGrowsForAReaderThatKeepsUpWithinTheBudget() {
        MuxSettings s = NONE.toBuilder().maxWindow(1 << 20).receiveBuffer(MuxFrame.MAX_DATA + 32768).build();
        start(s, true, false);
        out();
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, new byte[32768]), data(0, new byte[32768]));
        // A whole window consumed, nothing left queued: the window grows, by as much as the budget allows.
        assertThat(out(MuxFrame.Type.WINDOW_UPDATE)).containsExactly(65536 + 32768);
        assertThat(accepted.get(0).state().recvWindow()).isEqualTo(65536 + 32768);
        assertThat(session.stats().receiveWindows()).isEqualTo(65536 + 32768);
        // A second stream starts at the protocol's 64 KiB, over budget or not.
        in(frame(2, MuxFrame.Type.OPEN_STREAM, 0), data(2, new byte[65536]));
        assertThat(out(MuxFrame.Type.WINDOW_UPDATE)).containsExactly(65536);
        assertThat(session.stats().receiveWindows()).isEqualTo(2 * 65536 + 32768);
        accepted.get(0).close();
        assertThat(session.stats().receiveWindows()).isEqualTo(65536);
    }

    @Test
    void sendsNoMoreThanTheCreditAndResumesOnWindowUpdate() throws Exception {
        start(NONE, true, false);
        out();
        MuxStreamChannel s = session.openStream(null).get();
        assertThat(s.streamId()).isEqualTo(1); // the responder opens odd ids
        ChannelFuture write = s.writeAndFlush(Unpooled.wrappedBuffer(new byte[100_000]));
        List<MuxFrame> sent = out();
        assertThat(sent).extracting(MuxFrame::type).containsExactly(MuxFrame.Type.OPEN_STREAM, MuxFrame.Type.DATA);
        assertThat(sent.get(1).length()).isEqualTo(65536);
        sent.forEach(MuxFrame::release);
        assertThat(write.isDone()).isFalse();
        in(frame(1, MuxFrame.Type.WINDOW_UPDATE, 10_000));
        assertThat(out(MuxFrame.Type.DATA)).containsExactly(10_000);
        in(frame(1, MuxFrame.Type.WINDOW_UPDATE, 65536));
        assertThat(out(MuxFrame.Type.DATA)).containsExactly(100_000 - 65536 - 10_000);
        assertThat(write.isSuccess()).isTrue();
        s.close();
    }

    /** Records what each writability event said, as the stream's writer would see it. */
    private static final class WritabilityLog extends ChannelInboundHandlerAdapter {
        final List<Boolean> events = new ArrayList<>();

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            events.add(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }
    }

    /** Writes the stream's whole initial credit in two writes, each below its high water mark. */
    private static void useUpTheCredit(MuxStreamChannel s) {
        s.writeAndFlush(Unpooled.wrappedBuffer(new byte[30_000]));
        s.writeAndFlush(Unpooled.wrappedBuffer(new byte[MuxFrame.MAX_DATA - 30_000]));
    }

    @Test
    void writabilityFollowsTheCredit() throws Exception {
        start(NONE, true, false);
        out();
        WritabilityLog log = new WritabilityLog();
        MuxStreamChannel s = session.openStream(null, log).get();
        useUpTheCredit(s);
        assertThat(out(MuxFrame.Type.DATA)).containsExactly(30_000, 35_536);
        // Nothing is queued, but the credit is used up and a write now could only wait: the stream says so.
        assertThat(s.isWritable()).isFalse();
        assertThat(s.bytesBeforeUnwritable()).isZero();
        assertThat(log.events).containsExactly(false);
        in(frame(1, MuxFrame.Type.WINDOW_UPDATE, 1000));
        assertThat(s.isWritable()).isTrue();
        assertThat(log.events).containsExactly(false, true);
        s.close();
    }

    @Test
    void aStreamWithoutCreditWhosePeerStopsReadingIsWritableAgainAndItsWritesFail() throws Exception {
        start(NONE, true, false);
        out();
        WritabilityLog log = new WritabilityLog();
        MuxStreamChannel s = session.openStream(null, log).get();
        useUpTheCredit(s);
        out().forEach(MuxFrame::release);
        assertThat(s.isWritable()).isFalse();
        // No credit will come after CloseWrite: a writer waiting for writability must wake to its failure.
        in(frame(1, MuxFrame.Type.CLOSE_WRITE, 0));
        assertThat(s.isOpen()).isTrue();
        assertThat(s.isWritable()).isTrue();
        assertThat(log.events).containsExactly(false, true);
        ChannelFuture late = s.writeAndFlush(Unpooled.wrappedBuffer(new byte[1]));
        assertThat(late.cause()).hasMessageContaining("stopped reading");
        s.close();
    }

    /** Pauses reading while the stream is not writable, as a served callback connection does. */
    private static final class PauseWhileUnwritable extends ChannelInboundHandlerAdapter {
        final List<Object> seen = new ArrayList<>();

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            seen.add(((ByteBuf) msg).readableBytes());
            ((ByteBuf) msg).release();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            seen.add("inactive");
        }
    }

    @Test
    void aReaderPausedForWritabilityGetsItsDataAndTheCloseWhenThePeerClosesTheStream() throws Exception {
        start(NONE, true, false);
        out();
        PauseWhileUnwritable reader = new PauseWhileUnwritable();
        MuxStreamChannel s = session.openStream(null, reader).get();
        useUpTheCredit(s); // reading pauses
        out().forEach(MuxFrame::release);
        assertThat(s.config().isAutoRead()).isFalse();
        in(data(1, new byte[100]), frame(1, MuxFrame.Type.CLOSE_STREAM, 0));
        out().forEach(MuxFrame::release);
        assertThat(reader.seen).containsExactly(100, "inactive");
        assertThat(s.isOpen()).isFalse();
    }

    /**
     * Echoes what it reads as a served callback connection does (ConnectionHandler): writes in
     * channelRead, one flush at channelReadComplete, and reading paused while the stream is not
     * writable.
     */
    private static final class PausingEcho extends ChannelInboundHandlerAdapter {
        final List<Integer> reads = new ArrayList<>();

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            reads.add(((ByteBuf) msg).readableBytes());
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    @Test
    void aReaderPausedByItsOwnEchoResumesWhenTheEchoDrainsAtTheEndOfTheBatch() {
        PausingEcho echo = new PausingEcho();
        link = new EmbeddedChannel();
        session = MuxSessionHandler.install(link, NONE, MuxSettings.Role.RESPONDER, (stream, service) -> {
            // One 32 KiB echo fills the stream's queue: unwritable, so reading pauses mid-batch.
            stream.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8 * 1024, 16 * 1024));
            stream.pipeline().addLast(echo);
            accepted.add(stream);
            return true;
        });
        out();
        // The peer's whole initial window in one read: the first frame's echo pauses reading; the
        // flush at the end of that batch sends it (there is credit), the stream is writable again
        // and reading resumes from inside the delivery, so the second frame must follow.
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, new byte[32768]), data(0, new byte[32768]));
        assertThat(echo.reads).containsExactly(32768, 32768);
        assertThat(accepted.get(0).queuedBytes()).isZero();
        assertThat(session.stats().bufferedBytes()).isZero();
        List<MuxFrame> sent = out();
        assertThat(sent).filteredOn(f -> f.type() == MuxFrame.Type.DATA).extracting(MuxFrame::length)
                .containsExactly(32768, 32768);
        // The credit for all of it goes back (grown window or not), so the peer can go on.
        assertThat(sent).filteredOn(f -> f.type() == MuxFrame.Type.WINDOW_UPDATE)
                .extracting(MuxFrame::length).containsExactly(2 * 65536);
        sent.forEach(MuxFrame::release);
        // The echo used this side's whole credit: reading stays paused until the peer's WindowUpdate.
        assertThat(accepted.get(0).config().isAutoRead()).isFalse();
        in(frame(0, MuxFrame.Type.WINDOW_UPDATE, 65536));
        assertThat(accepted.get(0).config().isAutoRead()).isTrue();
    }

    @Test
    void aReadAskedForAtTheEndOfABatchDeliversTheNextBatch() {
        start(NONE, false, false);
        accepted.clear();
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0));
        MuxStreamChannel s = accepted.get(0);
        s.config().setRecvByteBufAllocator(new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(1));
        List<Long> batches = new ArrayList<>();
        s.pipeline().addFirst(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                batches.add(collector(0).count.get());
                ctx.read(); // the usual auto-read-off reader: the next batch when this one is done
                ctx.fireChannelReadComplete();
            }
        });
        out();
        in(data(0, "a"), data(0, "b"), data(0, "c"));
        assertThat(collector(0).count.get()).isZero();
        s.read();
        assertThat(batches).containsExactly(1L, 2L, 3L);
        assertThat(out(MuxFrame.Type.WINDOW_UPDATE)).containsExactly(3);
    }

    @Test
    void streamsWaitForTheirTurnOnAFullLinkInOrder() throws Exception {
        start(NONE, true, false);
        link.config().setWriteBufferWaterMark(new WriteBufferWaterMark(8 * 1024, 30_000)); // one frame fills it
        out();
        WritabilityLog logA = new WritabilityLog();
        WritabilityLog logC = new WritabilityLog();
        MuxStreamChannel a = session.openStream(null, logA).get();
        MuxStreamChannel b = session.openStream(null).get();
        MuxStreamChannel c = session.openStream(null, logC).get();
        out();
        a.writeAndFlush(Unpooled.wrappedBuffer(new byte[40_000]));
        assertThat(link.isWritable()).as("a's frame fills the link until the end of the turn").isFalse();
        // With credit left and nothing queued, a still waits for a turn: it cannot take another
        // write that it would only hold.
        assertThat(a.state().sendCredit()).isPositive();
        assertThat(a.isWritable()).isFalse();
        assertThat(logA.events).containsExactly(false);
        // b never met the full link and is writable; c's write finds the link full: it is kept, and c waits.
        assertThat(b.isWritable()).isTrue();
        c.writeAndFlush(Unpooled.wrappedBuffer(new byte[1000]));
        assertThat(c.isWritable()).isFalse();
        assertThat(logC.events).containsExactly(false);
        // The turn ends, the link drains, and the waiting streams get their turns in order.
        List<MuxFrame> frames = out();
        assertThat(frames).extracting(MuxFrame::streamId, MuxFrame::length).containsExactly(
                tuple(1, 40_000),
                tuple(5, 1000));
        frames.forEach(MuxFrame::release);
        assertThat(a.isWritable()).isTrue();
        assertThat(c.isWritable()).isTrue();
        assertThat(logA.events).containsExactly(false, true);
        assertThat(logC.events).containsExactly(false, true);
        a.close();
        b.close();
        c.close();
    }

    @Test
    void closeReadDeliversTheDataThenEndOfInput() {
        start(NONE, true, true);
        in(MuxFrameTestBytes.hello(), frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, "last"),
                frame(0, MuxFrame.Type.CLOSE_READ, 0));
        StreamHandlers.Collector c = collector(0);
        assertThat(c.eof).isCompletedWithValue(4L);
        MuxStreamChannel s = accepted.get(0);
        assertThat(s.isInputShutdown()).isTrue();
        assertThat(s.isOpen()).isTrue();
        out();
        s.shutdownOutput();
        // Both halves closed with CloseRead: the stream closes, and a ManCom peer needs no CloseStream.
        assertThat(out()).extracting(MuxFrame::type).containsExactly(MuxFrame.Type.CLOSE_READ);
        assertThat(s.isOpen()).isFalse();
        assertThat(session.stats().openStreams()).isZero();
    }

    @Test
    void aPlainGomuxPeerGetsCloseStreamEvenAfterBothHalves() {
        start(NONE, true, true);
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), frame(0, MuxFrame.Type.CLOSE_READ, 0));
        out();
        accepted.get(0).shutdownOutput();
        List<MuxFrame> frames = out();
        assertThat(frames).extracting(MuxFrame::type)
                .containsExactly(MuxFrame.Type.CLOSE_READ, MuxFrame.Type.CLOSE_STREAM);
    }

    @Test
    void closeStreamFromThePeerDeliversBufferedDataFirst() {
        start(NONE, false, false);
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, "tail"), frame(0, MuxFrame.Type.CLOSE_STREAM, 0));
        MuxStreamChannel s = accepted.get(0);
        assertThat(s.isOpen()).as("waits for its reader").isTrue();
        s.read();
        assertThat(collector(0).eof).isCompletedWithValue(4L);
        assertThat(s.isOpen()).isFalse();
        assertThat(out(MuxFrame.Type.CLOSE_STREAM)).isEmpty(); // the peer closed it: no answer
        assertThat(s.closeCause()).isNull();
    }

    @Test
    void localCloseSendsCloseStreamAndLaterFramesAreIgnored() {
        start(NONE, true, false);
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0));
        out();
        accepted.get(0).close();
        assertThat(out(MuxFrame.Type.CLOSE_STREAM)).hasSize(1);
        in(data(0, "late"), frame(0, MuxFrame.Type.WINDOW_UPDATE, 4));
        assertThat(session.stats().ignoredFrames()).isEqualTo(2);
    }

    @Test
    void peerCloseMuxFailsStreamsAfterTheirData() {
        start(NONE, false, false);
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, "abc"), frame(0, MuxFrame.Type.CLOSE_MUX, 0));
        assertThat(session.terminationFuture().isSuccess()).isTrue();
        MuxStreamChannel s = accepted.get(0);
        assertThat(s.isOpen()).isTrue();
        s.read();
        assertThat(collector(0).count.get()).isEqualTo(3);
        assertThat(collector(0).failure).isCompletedWithValueMatching(t -> t.getMessage().equals("session closed by peer"));
        assertThat(s.isOpen()).isFalse();
        assertThat(link.isOpen()).isFalse();
    }

    @Test
    void aBurstOfOpensInOneReadIsServedAndAnsweredInFewBuffers() {
        // Found by bench mux-idle: each preamble is answered with an 8-byte WindowUpdate; 20,000 of
        // them in one read used to count as over 1 MiB queued ("the peer does not read").
        start(QUIET.toBuilder().maxStreams(50_000).build(), true, false);
        out();
        int n = 20_000;
        byte[] name = "idle".getBytes(StandardCharsets.UTF_8);
        ByteBuf burst = Unpooled.buffer(n * (16 + 1 + name.length));
        for (int i = 0; i < n; i++) {
            int id = 2 * i; // the peer dialled: it is the initiator, with even ids
            MuxFrameEncoder.writeHeader(burst, id, 0, MuxFrame.Type.OPEN_STREAM);
            MuxFrameEncoder.writeHeader(burst, id, 1 + name.length, MuxFrame.Type.DATA);
            burst.writeByte(name.length).writeBytes(name);
        }
        link.writeInbound(burst);
        link.runPendingTasks();
        assertThat(session.terminationCause()).as("the session's end").isNull();
        assertThat(session.isOpen()).isTrue();
        assertThat(session.stats().streamsOpened()).isEqualTo(n);
        assertThat(accepted).hasSize(n);
        // The replies are coalesced: a few buffers of 16 KiB, not one message per frame.
        assertThat(link.outboundMessages().size()).isLessThanOrEqualTo(n * MuxFrame.HEADER_SIZE / (16 * 1024) + 2);
        List<Integer> credit = out(MuxFrame.Type.WINDOW_UPDATE);
        assertThat(credit).hasSize(n).containsOnly(1 + name.length);
    }

    @Test
    void repliesToOneReadGoOutAsOneBufferInOrder() {
        start(NONE, true, false);
        out();
        in(frame(0, MuxFrame.Type.OPEN_STREAM, 0), data(0, "ab"), frame(2, MuxFrame.Type.OPEN_STREAM, 0),
                data(2, "c"), frame(4, MuxFrame.Type.OPEN_STREAM, 0), data(4, "xyz"));
        assertThat(link.outboundMessages()).hasSize(1);
        List<MuxFrame> frames = out();
        assertThat(frames).extracting(MuxFrame::type, MuxFrame::streamId, MuxFrame::length).containsExactly(
                tuple(MuxFrame.Type.WINDOW_UPDATE, 0, 2),
                tuple(MuxFrame.Type.WINDOW_UPDATE, 2, 1),
                tuple(MuxFrame.Type.WINDOW_UPDATE, 4, 3));
        frames.forEach(MuxFrame::release);
    }

    @Test
    void writesOfManyStreamsInOneTurnAreFlushedOnceAtItsEnd() throws Exception {
        start(NONE, true, false);
        out();
        MuxStreamChannel a = session.openStream(null).get();
        MuxStreamChannel b = session.openStream(null).get();
        out();
        a.writeAndFlush(Unpooled.wrappedBuffer(new byte[10]));
        b.writeAndFlush(Unpooled.wrappedBuffer(new byte[20]));
        a.writeAndFlush(Unpooled.wrappedBuffer(new byte[30]));
        assertThat(link.outboundMessages()).as("nothing flushed before the end of the turn").isEmpty();
        link.runPendingTasks();
        assertThat(link.outboundMessages()).as("one buffer, one flush").hasSize(1);
        List<MuxFrame> frames = out();
        assertThat(frames).extracting(MuxFrame::streamId, MuxFrame::length).containsExactly(
                tuple(1, 10),
                tuple(3, 20),
                tuple(1, 30));
        frames.forEach(MuxFrame::release);
        // A large frame goes out as it is, behind the small frames written before it.
        a.writeAndFlush(Unpooled.wrappedBuffer(new byte[5]));
        b.writeAndFlush(Unpooled.wrappedBuffer(new byte[70_000]));
        frames = out();
        assertThat(frames).extracting(MuxFrame::streamId, MuxFrame::length).containsExactly(
                tuple(1, 5),
                tuple(3, 65536 - 20));
        frames.forEach(MuxFrame::release);
        a.close();
        b.close();
    }

    @Test
    void aSocketLinksWaterMarksAreRaisedToSeveralFrames() {
        start(NONE, true, false);
        // An EmbeddedChannel is no socket: its marks stay.
        assertThat(link.config().getWriteBufferHighWaterMark()).isEqualTo(64 * 1024);
        assertThat(MuxSessionHandler.LINK_HIGH_WATER).isGreaterThanOrEqualTo(4 * MuxFrame.MAX_DATA);
    }
}
