package io.mancom.core.internal.sniff;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The first handler of a connection to a shared port: keeps its first bytes (at most
 * {@code maxBytes} plus the read that crossed the bound) until the {@link Router} picks a rule, or
 * the bound, the timeout or the client's close ends the wait. It then leaves the pipeline and hands
 * the connection and every byte it kept, unchanged, to its {@link Outcome}; or closes the connection
 * and says why. One per connection; loop-only.
 *
 * <p>Buffers: the bytes kept are this handler's until it hands them on; they are released if the
 * connection ends first.
 */
public final class SniffHandler extends ChannelInboundHandlerAdapter {
    /** Why a connection was closed undecided. */
    public enum Refusal {
        /** Its first bytes match no rule. */
        NO_MATCH("its first bytes match no rule"),
        /** It sent sniff.max-bytes without a rule deciding. */
        TOO_MANY_BYTES("no rule decided within sniff.max-bytes"),
        /** It sent some bytes but not enough to decide within sniff.timeout. */
        TIMEOUT("no rule decided within sniff.timeout"),
        /** It sent nothing within sniff.timeout and the port has no on-timeout. */
        SILENT("it sent nothing within sniff.timeout (no sniff.on-timeout)"),
        /** It closed before a rule decided. */
        CLOSED("it closed before a rule decided");

        /** The words for a log line. */
        public final String why;

        Refusal(String why) {
            this.why = why;
        }
    }

    /** Where a sniffed connection goes. Called on the connection's loop; must not block. */
    public interface Outcome {
        /**
         * Rule {@code rule} took the connection. This handler has left the pipeline; the callee owns
         * {@code first} (possibly empty) and must deliver it to the connection's pipeline before
         * anything read later, or release it.
         */
        void routed(Channel channel, int rule, ByteBuf first);

        /** The connection was closed undecided after {@code bytes} bytes. */
        void refused(Channel channel, Refusal why, int bytes);
    }

    private final Router router;
    private final int maxBytes;
    private final long timeoutNanos;
    private final int onTimeout;
    private final Outcome outcome;
    private ByteBuf kept;
    private ScheduledFuture<?> timer;
    private boolean done;

    /**
     * @param onTimeout the rule a silent client goes to, or -1 (closed)
     */
    public SniffHandler(Router router, int maxBytes, Duration timeout, int onTimeout, Outcome outcome) {
        this.router = router;
        this.maxBytes = maxBytes;
        this.timeoutNanos = timeout.toNanos();
        this.onTimeout = onTimeout;
        this.outcome = outcome;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timer = ctx.executor().schedule(() -> timedOut(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        ctx.read(); // in case the channel came with auto-read off
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (done || !(msg instanceof ByteBuf in)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        kept = append(ctx, kept, in);
        int readable = kept.readableBytes();
        boolean last = readable >= maxBytes;
        int rule = router.decide(kept.slice(kept.readerIndex(), Math.min(readable, maxBytes)), maxBytes, last);
        if (rule >= 0) {
            route(ctx, rule);
        } else if (rule == Router.NONE) {
            refuse(ctx, last ? Refusal.TOO_MANY_BYTES : Refusal.NO_MATCH);
        } else if (!ctx.channel().config().isAutoRead()) {
            ctx.read();
        }
    }

    private static ByteBuf append(ChannelHandlerContext ctx, ByteBuf kept, ByteBuf in) {
        if (kept == null) {
            return in;
        }
        ByteBuf both = ctx.alloc().buffer(kept.readableBytes() + in.readableBytes());
        both.writeBytes(kept).writeBytes(in);
        kept.release();
        in.release();
        return both;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (!done) {
            // Gone before a decision: nobody is left to serve, whatever the bytes would have said.
            refuse(ctx, Refusal.CLOSED);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // A reset while sniffing: nothing to hand on.
        if (!done) {
            refuse(ctx, Refusal.CLOSED);
        }
    }

    private void timedOut(ChannelHandlerContext ctx) {
        if (done) {
            return;
        }
        if (kept == null && onTimeout >= 0) {
            route(ctx, onTimeout);
        } else {
            refuse(ctx, kept == null ? Refusal.SILENT : Refusal.TIMEOUT);
        }
    }

    private void route(ChannelHandlerContext ctx, int rule) {
        done = true;
        cancelTimer();
        ByteBuf first = kept == null ? Unpooled.EMPTY_BUFFER : kept;
        kept = null;
        Channel ch = ctx.channel();
        // Nothing is read until the service's handlers are in place (and the bytes kept delivered).
        ch.config().setAutoRead(false);
        ctx.pipeline().remove(this);
        outcome.routed(ch, rule, first);
    }

    private void refuse(ChannelHandlerContext ctx, Refusal why) {
        done = true;
        cancelTimer();
        int bytes = kept == null ? 0 : kept.readableBytes();
        if (kept != null) {
            kept.release();
            kept = null;
        }
        ctx.channel().close();
        outcome.refused(ctx.channel(), why, bytes);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelTimer();
        if (kept != null) {
            kept.release();
            kept = null;
        }
    }
}
