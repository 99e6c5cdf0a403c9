package io.mancom.core.internal.mux;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.mancom.ManComException;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes a whole {@link MuxSessionHandler} (decoder, encoder, session, streams) on an
 * {@link EmbeddedChannel}: the input is what a hostile peer sends. What must hold for any bytes:
 * <ul>
 *   <li>no exception leaves the pipeline (protocol errors end the session, they do not escape),
 *       and the session ends, when it ends, with a {@link ManComException};</li>
 *   <li>streams see only {@link ManComException}s;</li>
 *   <li>what the session writes is always valid mux framing;</li>
 *   <li>received bytes not yet delivered and the receive windows granted stay within
 *       {@code max(receive-buffer, max-streams x 65536)} (docs/protocol.md section 6);</li>
 *   <li>once the link and the streams are closed, every buffer is released.</li>
 * </ul>
 * Input: byte 0 chooses the role (bits 0-1: responder, initiator, auto), the routing (bit 2:
 * none), what streams do with data (bits 3-4: read, echo, hold it unread) and the tie-breaker of
 * a Hello (bits 5-7); byte 1 the read size (0: one read, else 1..255 bytes per read); the rest is
 * what the peer sends. Services named {@code refuse} and {@code throw} are refused. Seeds:
 * {@code MuxSessionFuzzTestInputs/session/} (docs/fuzzing.md).
 */
class MuxSessionFuzzTest {

    private static final int MAX_STREAMS = 8;
    private static final int BACKLOG = 4;
    private static final long RECEIVE_BUFFER = 256 * 1024;
    private static final long MOST_BUFFERED = Math.max(RECEIVE_BUFFER, (long) MAX_STREAMS * MuxFrame.MAX_DATA);

    @FuzzTest(maxDuration = "60s")
    void session(byte[] input) throws Exception {
        if (input.length < 2) {
            return;
        }
        int mode = input[0] & 0xFF;
        int step = input[1] & 0xFF;
        MuxSettings.Role role = MuxSettings.Role.values()[(mode & 3) % 3];
        MuxSettings settings = MuxSettings.builder()
                .keepaliveInterval(Duration.ZERO).idleTimeout(Duration.ZERO)
                .maxStreams(MAX_STREAMS).acceptBacklog(BACKLOG).receiveBuffer(RECEIVE_BUFFER)
                .routing((mode & 4) != 0 ? MuxSettings.Routing.NONE : MuxSettings.Routing.SERVICE)
                .build();
        int streamMode = (mode >> 3) & 3;
        int tie = 1 + ((mode >> 5) & 7) * 0x1000;
        List<Throwable> streamFailures = new ArrayList<>();
        List<MuxStreamChannel> accepted = new ArrayList<>();

        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel link = new EmbeddedChannel(false, false);
        link.config().setAllocator(alloc);
        link.register();
        MuxSessionHandler session = MuxSessionHandler.install(link, settings, role, (stream, service) -> {
            if ("refuse".equals(service)) {
                return false;
            }
            if ("throw".equals(service)) {
                throw new IllegalStateException("the acceptor failed");
            }
            stream.config().setAllocator(alloc);
            stream.config().setAutoRead(streamMode != 2);
            stream.pipeline().addLast(new StreamEnd(streamMode == 1, streamFailures));
            accepted.add(stream);
            return true;
        }, () -> tie);
        OutputCheck output = new OutputCheck();
        try {
            output.take(link);
            // The session closes the link on a protocol error: the peer's further bytes go nowhere.
            for (int at = 2; at < input.length && link.isOpen(); ) {
                int end = step == 0 ? input.length : Math.min(input.length, at + step);
                link.writeInbound(alloc.copyOf(input, at, end));
                link.runPendingTasks();
                output.take(link);
                MuxSessionStats stats = session.stats();
                if (stats.bufferedBytes() > MOST_BUFFERED || stats.receiveWindows() > MOST_BUFFERED) {
                    throw new AssertionError("the session holds " + stats.bufferedBytes() + " undelivered bytes and "
                            + "granted " + stats.receiveWindows() + " of windows; at most " + MOST_BUFFERED + ": " + stats);
                }
                at = end;
            }
            link.close();
            // A stream whose reader paused keeps its undelivered data, also after the session
            // ended, until the application reads or closes it (as a socket channel does): close
            // them all, as the runtime's connections do when they see the session's end.
            accepted.forEach(MuxStreamChannel::close);
            link.runPendingTasks();
            output.take(link);
        } finally {
            link.finishAndReleaseAll();
            output.finish();
        }
        if (!session.terminationFuture().isDone()) {
            throw new AssertionError("the link is closed but the session has not ended");
        }
        Throwable cause = session.terminationFuture().cause();
        if (cause != null && !(cause instanceof ManComException)) {
            throw new AssertionError("the session ended with " + cause, cause);
        }
        for (Throwable t : streamFailures) {
            if (!(t instanceof ManComException)) {
                throw new AssertionError("a stream failed with " + t, t);
            }
        }
        alloc.assertAllReleased("after the link and the streams closed");
    }

    /** The end of every accepted stream's pipeline: takes data (releasing or echoing it) and failures. */
    private static final class StreamEnd extends ChannelInboundHandlerAdapter {
        private final boolean echo;
        private final List<Throwable> failures;

        StreamEnd(boolean echo, List<Throwable> failures) {
            this.echo = echo;
            this.failures = failures;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (echo) {
                ctx.write(msg);
            } else {
                ((ByteBuf) msg).release();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (echo) {
                ctx.flush();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failures.add(cause);
        }
    }

    /** Decodes what the session writes: our own side must always write valid frames. */
    private static final class OutputCheck {
        private final EmbeddedChannel parser = new EmbeddedChannel(new MuxFrameDecoder());

        void take(EmbeddedChannel link) {
            Object o;
            while ((o = link.readOutbound()) != null) {
                try {
                    parser.writeInbound(o);
                } catch (MuxProtocolException e) {
                    throw new AssertionError("the session wrote invalid framing", e);
                }
                MuxFrame f;
                while ((f = parser.readInbound()) != null) {
                    f.release();
                }
            }
        }

        void finish() {
            parser.finishAndReleaseAll();
        }
    }
}
