package io.mancom.core.internal.monitor;

import io.mancom.ChannelStatus;
import io.mancom.EndPoint;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.mancom.core.spi.device.DeviceChannel;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.AttributeKey;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;

/**
 * The counters of one channel, and the handler at the front of its pipeline that keeps them.
 *
 * <p>Bytes in are counted as they leave the transport ({@code channelRead}); bytes out when their
 * write completes, so a write that fails is not counted as sent. The sizes of writes in flight
 * wait in a small FIFO (a channel completes its writes in order), and this object is the
 * completion listener of each: counting allocates nothing per write.
 *
 * <h2>Threading</h2>
 * Every counter is written on the channel's event loop only, as a plain add published with
 * {@code setOpaque}, and read from any thread with {@code getOpaque}: racy, never torn, no fence
 * on the hot path. {@link #snapshot()} may be called from any thread. The hook methods for the
 * mux and device code ({@link #frameReceived()}, {@link #frameSent()}, {@link #windowStalled()},
 * {@link #reconnected(int)}) must be called on the channel's event loop.
 */
public final class ChannelStats extends ChannelDuplexHandler implements ChannelFutureListener {
    static final AttributeKey<ChannelStats> KEY = AttributeKey.valueOf("mancom.channelStats");
    /** The name of this handler in a pipeline. */
    public static final String NAME = "mancom-stats";

    private static final VarHandle BYTES_IN;
    private static final VarHandle BYTES_OUT;
    private static final VarHandle FRAMES_IN;
    private static final VarHandle FRAMES_OUT;
    private static final VarHandle QUEUED;
    private static final VarHandle LAST_READ;
    private static final VarHandle LAST_WRITE;
    private static final VarHandle STALLS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            BYTES_IN = l.findVarHandle(ChannelStats.class, "bytesIn", long.class);
            BYTES_OUT = l.findVarHandle(ChannelStats.class, "bytesOut", long.class);
            FRAMES_IN = l.findVarHandle(ChannelStats.class, "framesIn", long.class);
            FRAMES_OUT = l.findVarHandle(ChannelStats.class, "framesOut", long.class);
            QUEUED = l.findVarHandle(ChannelStats.class, "queued", long.class);
            LAST_READ = l.findVarHandle(ChannelStats.class, "lastRead", long.class);
            LAST_WRITE = l.findVarHandle(ChannelStats.class, "lastWrite", long.class);
            STALLS = l.findVarHandle(ChannelStats.class, "windowStalls", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final long id;
    final ChannelStatus.Kind kind;
    final String service;
    final long sessionId;
    final EndPoint local;
    final EndPoint remote;
    final long openedAt;
    final Channel channel;
    /** The service totals this channel adds to, or null (a mux session belongs to no one service). */
    final ServiceStats serviceStats;
    private final Monitor monitor;

    // Loop-written, read with getOpaque. Times are epoch milliseconds, 0 = never.
    private long bytesIn;
    private long bytesOut;
    private long framesIn;
    private long framesOut;
    private long queued;
    private long lastRead;
    private long lastWrite;
    private long windowStalls;
    private volatile int reconnects;
    private volatile boolean inputShut;
    private volatile boolean closedHere;
    private volatile Throwable cause;
    private volatile String closeCause;

    // The sizes of writes whose completion is pending, oldest first. Loop-only.
    private long[] sizes; // made on the first write: an idle mux stream keeps none
    private int head;
    private int count;

    ChannelStats(Monitor monitor, Channel channel, long id, ChannelStatus.Kind kind, String service, long sessionId,
                 EndPoint local, EndPoint remote, ServiceStats serviceStats) {
        this.monitor = monitor;
        this.channel = channel;
        this.id = id;
        this.kind = kind;
        this.service = service;
        this.sessionId = sessionId;
        this.local = local;
        this.remote = remote;
        this.serviceStats = serviceStats;
        this.openedAt = System.currentTimeMillis();
    }

    /** The counters of {@code channel}, or null if the runtime does not track it. */
    public static ChannelStats of(Channel channel) {
        return channel.hasAttr(KEY) ? channel.attr(KEY).get() : null;
    }

    /** This channel's id: its connection's id, or the id given to a mux session. */
    public long id() {
        return id;
    }

    // ---- counting ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf buf) {
            BYTES_IN.setOpaque(this, bytesIn + buf.readableBytes());
            LAST_READ.setOpaque(this, System.currentTimeMillis());
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        long n = size(msg);
        if (promise.isVoid()) {
            // No completion to wait for: count it as sent now.
            sent(n);
        } else {
            push(n);
            QUEUED.setOpaque(this, queued + n);
            promise.addListener(this);
        }
        ctx.write(msg, promise);
    }

    /** A write completed (in order, on the loop). */
    @Override
    public void operationComplete(ChannelFuture f) {
        long n = pop();
        QUEUED.setOpaque(this, queued - n);
        if (f.isSuccess()) {
            sent(n);
        }
    }

    private void sent(long n) {
        if (n > 0) {
            BYTES_OUT.setOpaque(this, bytesOut + n);
            LAST_WRITE.setOpaque(this, System.currentTimeMillis());
        }
    }

    private static long size(Object msg) {
        if (msg instanceof ByteBuf b) {
            return b.readableBytes();
        }
        if (msg instanceof ByteBufHolder h) {
            return h.content().readableBytes();
        }
        if (msg instanceof FileRegion r) {
            return r.count() - r.transferred();
        }
        return 0;
    }

    private void push(long n) {
        if (sizes == null) {
            sizes = new long[4];
        } else if (count == sizes.length) {
            long[] bigger = new long[sizes.length * 2];
            for (int i = 0; i < count; i++) {
                bigger[i] = sizes[(head + i) % sizes.length];
            }
            sizes = bigger;
            head = 0;
        }
        sizes[(head + count) % sizes.length] = n;
        count++;
    }

    private long pop() {
        if (count == 0) {
            return 0; // a completion we did not see the write of; nothing to account
        }
        long n = sizes[head];
        head = (head + 1) % sizes.length;
        count--;
        return n;
    }

    // ---- life ----

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
        if (cause == null) {
            cause = t;
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
        if (channel.isActive()) {
            closedHere = true;
        }
        ctx.close(promise);
    }

    /** Called once, on the loop, when the channel has closed: fixes the close cause. */
    Throwable finish() {
        Throwable t = cause;
        if (t == null && channel instanceof MuxStreamChannel s) {
            t = s.closeCause();
        } else if (t == null && channel instanceof DeviceChannel d) {
            t = d.closeCause();
        }
        if (t != null) {
            closeCause = Reasons.of(t) + ": " + t.getMessage();
        } else if (closedHere && !inputShut) {
            closeCause = "closed here";
        } else {
            closeCause = "closed by the peer";
        }
        return t;
    }

    // ---- hooks for the mux and device code (on the loop) ----

    /** A mux session received one frame. */
    public void frameReceived() {
        FRAMES_IN.setOpaque(this, framesIn + 1);
    }

    /** A mux session sent one frame. */
    public void frameSent() {
        FRAMES_OUT.setOpaque(this, framesOut + 1);
    }

    /** A mux session sent {@code n} frames at once (coalesced into one buffer). */
    public void framesSent(int n) {
        FRAMES_OUT.setOpaque(this, framesOut + n);
    }

    /** A mux stream had data to send and no window left: it waits for the peer's update. */
    public void windowStalled() {
        STALLS.setOpaque(this, windowStalls + 1);
    }

    /**
     * This device channel replaces one that was lost: counts a reconnect for the channel and its
     * service, and tells the listeners.
     *
     * @param attempts the open attempts it took (at least 1)
     */
    public void reconnected(int attempts) {
        reconnects++;
        monitor.reconnected(this, Math.max(1, attempts));
    }

    /**
     * A failure on this channel that closes nothing (a refused write): counted under its reason in
     * its service's errors, and told to the listeners. Any thread.
     */
    public void error(Throwable failure) {
        monitor.error(service, channel, failure);
    }

    // ---- reading (any thread) ----

    long bytesIn() {
        return (long) BYTES_IN.getOpaque(this);
    }

    long bytesOut() {
        return (long) BYTES_OUT.getOpaque(this);
    }

    long queued() {
        return Math.max(0, (long) QUEUED.getOpaque(this));
    }

    boolean isClosed() {
        return closeCause != null;
    }

    /** This channel's status now; {@code streamsOpen} as the caller counted them. */
    ChannelStatus snapshot(int streamsOpen) {
        String closed = closeCause;
        ChannelStatus.State state;
        if (closed != null) {
            state = ChannelStatus.State.CLOSED;
        } else if (inputShut || channel instanceof DuplexChannel d && d.isOutputShutdown()) {
            state = ChannelStatus.State.HALF_CLOSED;
        } else {
            state = ChannelStatus.State.OPEN;
        }
        return new ChannelStatus(id, kind, service, sessionId, local, remote, Instant.ofEpochMilli(openedAt), state,
                bytesIn(), bytesOut(), (long) FRAMES_IN.getOpaque(this), (long) FRAMES_OUT.getOpaque(this), queued(),
                closed == null && channel.isWritable(), time((long) LAST_READ.getOpaque(this)),
                time((long) LAST_WRITE.getOpaque(this)), closed, streamsOpen, (long) STALLS.getOpaque(this), reconnects);
    }

    private static Instant time(long millis) {
        return millis == 0 ? null : Instant.ofEpochMilli(millis);
    }

    @Override
    public boolean isSharable() {
        return false;
    }

    @Override
    public String toString() {
        return "ChannelStats#" + id + "[" + kind + " " + service + "]";
    }
}
