package io.mancom.core.internal.monitor;

import io.mancom.EndPoint;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The counters of a link that carries a mux session: its bytes (frame headers included), which
 * a small handler at the front of the link's pipeline counts, and its frames, which the session
 * counts ({@link #frameReceived}, {@link #framesSent}). One per link, whatever its streams.
 *
 * <p>The session writes its frames with void promises, so they count as sent when written; a
 * write with a real promise (the CloseMux) counts when it completes, and only if it succeeds. The
 * clock is read once per read batch and once per flush.
 *
 * <h2>Threading</h2>
 * As {@link ChannelStats}: counters written on the link's loop, read from anywhere.
 */
public final class LinkStats extends ChannelStats {
    /** The name of the counting handler in the link's pipeline. */
    public static final String NAME = "mancom-stats";

    private static final VarHandle FRAMES_IN;
    private static final VarHandle FRAMES_OUT;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            FRAMES_IN = l.findVarHandle(LinkStats.class, "framesIn", long.class);
            FRAMES_OUT = l.findVarHandle(LinkStats.class, "framesOut", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Channel link;
    private final long id;
    private final String services;
    private final EndPoint local;
    private final EndPoint remote;
    private long framesIn;
    private long framesOut;
    private long queued; // loop-written, read racily
    private volatile boolean inputShut;
    private volatile boolean closedHere;
    private volatile Throwable failure;

    LinkStats(Channel link, long id, String services, EndPoint local, EndPoint remote) {
        this.link = link;
        this.id = id;
        this.services = services;
        this.local = local;
        this.remote = remote;
    }

    /** The counters of the mux link {@code link}, or null if the runtime does not track it. */
    public static LinkStats ofLink(Channel link) {
        return of(link) instanceof LinkStats s ? s : null;
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public String service() {
        return services;
    }

    @Override
    public EndPoint local() {
        return local;
    }

    @Override
    public EndPoint remote() {
        return remote;
    }

    @Override
    protected Channel countedChannel() {
        return link;
    }

    @Override
    protected long queuedBytes() {
        return queued;
    }

    @Override
    protected Throwable failure() {
        return failure;
    }

    @Override
    protected boolean closedHere() {
        return closedHere;
    }

    @Override
    protected boolean inputShut() {
        return inputShut;
    }

    // ---- hooks for the session (on the loop)

    /** The session received one frame. */
    public void frameReceived() {
        FRAMES_IN.setOpaque(this, framesIn + 1);
    }

    /** The session flushed the link with {@code n} frames. */
    public void framesSent(int n) {
        FRAMES_OUT.setOpaque(this, framesOut + n);
    }

    @Override
    long framesIn() {
        return (long) FRAMES_IN.getOpaque(this);
    }

    @Override
    long framesOut() {
        return (long) FRAMES_OUT.getOpaque(this);
    }

    /** The handler at the front of the link's pipeline that counts its bytes. */
    Counter counter() {
        return new Counter();
    }

    final class Counter extends ChannelDuplexHandler {
        private boolean sentSinceStamp;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf) {
                received(buf.readableBytes());
            }
            ctx.fireChannelRead(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readBatchEnded();
            ctx.fireChannelReadComplete();
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            long n = msg instanceof ByteBuf b ? b.readableBytes()
                    : msg instanceof ByteBufHolder h ? h.content().readableBytes() : 0;
            if (promise.isVoid()) {
                // No completion to wait for: count it as sent now, stamp the time at the flush.
                sentSinceStamp |= addSent(n);
            } else if (n > 0) {
                queued += n;
                promise.addListener((ChannelFutureListener) f -> {
                    queued -= n;
                    if (f.isSuccess() && addSent(n)) {
                        stampWrite();
                    }
                });
            }
            ctx.write(msg, promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            if (sentSinceStamp) {
                sentSinceStamp = false;
                stampWrite(); // once per flush
            }
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
            if (failure == null) {
                failure = t;
            }
            ctx.fireExceptionCaught(t);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                inputShut = true;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            if (link.isActive()) {
                closedHere = true;
            }
            ctx.close(promise);
        }
    }

    @Override
    public String toString() {
        return "LinkStats#" + id + "[" + services + "]";
    }
}
