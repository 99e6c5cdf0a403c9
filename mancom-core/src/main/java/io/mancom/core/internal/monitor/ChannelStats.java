package io.mancom.core.internal.monitor;

import io.mancom.ChannelStatus;
import io.mancom.EndPoint;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.mancom.core.spi.device.DeviceChannel;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.AttributeKey;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;

/**
 * The counters of one channel, kept by the object that already handles the channel's bytes, and
 * its entry in the {@link Monitor}: a connection ({@code ChannelConnection}, for TCP connections,
 * devices and mux streams) or a mux session's {@link LinkStats}. No handler of its own, no object
 * of its own: an idle mux stream pays a few fields in the connection it has anyway.
 *
 * <h2>Counting</h2>
 * The owner calls {@link #received} as bytes arrive, {@link #readBatchEnded} at the end of each
 * read batch, and {@link #sent} as a write completes successfully. The clock is read at most once
 * per read batch (if bytes arrived in it) and once per flush: {@link #flushing} arms the
 * write stamp, the first completion after it takes the time. So {@code lastWrite} is when the
 * first write of the last flush completed.
 *
 * <h2>Lifecycle</h2>
 * The owner creates it with its channel; {@link Monitor#track} (or {@link Monitor#trackSession})
 * binds it, on the loop before the first byte, and listens to the channel's close future with it:
 * when the channel closes it leaves the live list, its close cause is fixed, and its bytes stay in
 * its service's totals. Until bound nothing counts. It holds no buffers; nothing here throws.
 *
 * <h2>Threading</h2>
 * Every counter is written on the channel's event loop only, as a plain add published with
 * {@code setOpaque}, and read from any thread with {@code getOpaque}: racy, never torn, no fence
 * on the hot path. {@link #flushing} may be called from any thread (a lost arm only leaves one
 * stamp for a later flush). {@link #snapshot} may be called from any thread.
 */
public abstract class ChannelStats implements ChannelFutureListener {
    static final AttributeKey<ChannelStats> KEY = AttributeKey.valueOf("mancom.channelStats");

    private static final VarHandle BYTES_IN;
    private static final VarHandle BYTES_OUT;
    private static final VarHandle LAST_READ;
    private static final VarHandle LAST_WRITE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            BYTES_IN = l.findVarHandle(ChannelStats.class, "bytesIn", long.class);
            BYTES_OUT = l.findVarHandle(ChannelStats.class, "bytesOut", long.class);
            LAST_READ = l.findVarHandle(ChannelStats.class, "lastRead", long.class);
            LAST_WRITE = l.findVarHandle(ChannelStats.class, "lastWrite", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Set by Monitor.track (on the loop, before the first byte); null while untracked.
    Monitor monitor;
    /** The service totals this channel adds to, or null (a mux session belongs to no one service). */
    ServiceStats serviceStats;
    long openedAt;
    /** Whether this channel counts ({@code -Dio.mancom.counters}); false while untracked. */
    private boolean counting;
    // The live list this entry is on (its service's, or the monitor's for sessions), guarded by its lock.
    ChannelStats prev;
    ChannelStats next;

    // Loop-written, read with getOpaque. Times are epoch milliseconds, 0 = never.
    private long bytesIn;
    private long bytesOut;
    private long lastRead;
    private long lastWrite;
    private boolean readSinceStamp; // loop-only
    private boolean writeStampArmed; // set by any thread, cleared on the loop
    private volatile int reconnects;
    private volatile String closeCause;

    protected ChannelStats() {
    }

    /** The counters of {@code channel} if it is not a mux stream, or null if the runtime does not track it. */
    public static ChannelStats of(Channel channel) {
        return channel.hasAttr(KEY) ? channel.attr(KEY).get() : null;
    }

    // ---- what the owner knows

    /** This channel's id: its connection's id, or the id given to a mux session. */
    public abstract long id();

    /** The service (a mux session: its services, comma-separated). */
    public abstract String service();

    /** This end's endpoint. */
    public abstract EndPoint local();

    /** The peer's endpoint. */
    public abstract EndPoint remote();

    /** The channel counted. */
    protected abstract Channel countedChannel();

    /** Bytes written by the application and not sent yet. Any thread. */
    protected abstract long queuedBytes();

    /** The failure that closed the channel, as the owner saw it in the pipeline, or null. */
    protected abstract Throwable failure();

    /** Whether this side closed the channel while it was active. */
    protected abstract boolean closedHere();

    /** Whether the peer ended its output before the close. */
    protected abstract boolean inputShut();

    /** Mux frames received (a session's); 0 otherwise. */
    long framesIn() {
        return 0;
    }

    /** Mux frames sent (a session's); 0 otherwise. */
    long framesOut() {
        return 0;
    }

    /** Called by the {@link Monitor} when it starts tracking this channel. */
    final void bind(Monitor monitor, ServiceStats serviceStats, boolean counting) {
        this.monitor = monitor;
        this.serviceStats = serviceStats;
        this.counting = counting;
        this.openedAt = System.currentTimeMillis();
    }

    // ---- counting (event loop)

    /** {@code n} bytes arrived. No clock: {@link #readBatchEnded} takes it once per batch. */
    public final void received(long n) {
        if (counting) {
            BYTES_IN.setOpaque(this, bytesIn + n);
            readSinceStamp = true;
        }
    }

    /** A read batch ended: stamps the last read if bytes arrived in it. */
    public final void readBatchEnded() {
        if (readSinceStamp) {
            readSinceStamp = false;
            LAST_READ.setOpaque(this, System.currentTimeMillis());
        }
    }

    /** A flush is on its way: the next completed write takes the time. Any thread. */
    public final void flushing() {
        writeStampArmed = true;
    }

    /** {@code n} bytes were sent: a write completed successfully. */
    public final void sent(long n) {
        if (addSent(n) && writeStampArmed) {
            writeStampArmed = false;
            stampWrite();
        }
    }

    /** Adds {@code n} bytes sent without reading the clock; whether counting is on. */
    final boolean addSent(long n) {
        if (counting && n > 0) {
            BYTES_OUT.setOpaque(this, bytesOut + n);
            return true;
        }
        return false;
    }

    /** Stamps the last write now. */
    final void stampWrite() {
        LAST_WRITE.setOpaque(this, System.currentTimeMillis());
    }

    /**
     * This device channel replaces one that was lost: counts a reconnect for the channel and its
     * service, and tells the listeners. On the loop.
     *
     * @param attempts the open attempts it took (at least 1)
     */
    public void reconnected(int attempts) {
        reconnects++;
        if (monitor != null) {
            monitor.reconnected(this, Math.max(1, attempts));
        }
    }

    /**
     * A failure on this channel that closes nothing (a refused write): counted under its reason in
     * its service's errors, and told to the listeners. Any thread.
     */
    public void error(Throwable failure) {
        if (monitor != null) {
            monitor.error(service(), this, failure);
        }
    }

    // ---- life

    /**
     * The channel's close future completed (the {@link Monitor} listens with this object itself,
     * so tracking a channel allocates no listener): it leaves the live list. On the loop.
     */
    @Override
    public final void operationComplete(ChannelFuture closed) {
        if (monitor != null) {
            monitor.closed(this);
        }
    }

    /** Called once, on the loop, when the channel has closed: fixes the close cause. */
    Throwable finish() {
        Throwable t = failure();
        Channel channel = countedChannel();
        if (t == null && channel instanceof MuxStreamChannel s) {
            t = s.closeCause();
        } else if (t == null && channel instanceof DeviceChannel d) {
            t = d.closeCause();
        }
        if (t != null) {
            closeCause = Reasons.of(t) + ": " + t.getMessage();
        } else if (closedHere() && !inputShut()) {
            closeCause = "closed here";
        } else {
            closeCause = "closed by the peer";
        }
        return t;
    }

    // ---- reading (any thread)

    long bytesIn() {
        return (long) BYTES_IN.getOpaque(this);
    }

    long bytesOut() {
        return (long) BYTES_OUT.getOpaque(this);
    }

    boolean isClosed() {
        return closeCause != null;
    }

    ChannelStatus.Kind kind() {
        Channel channel = countedChannel();
        if (channel instanceof MuxStreamChannel) {
            return ChannelStatus.Kind.MUX_STREAM;
        }
        if (this instanceof LinkStats) {
            return ChannelStatus.Kind.MUX_SESSION;
        }
        if (serviceStats == null) {
            return ChannelStatus.Kind.TCP;
        }
        return switch (serviceStats.endpoint.type()) {
            case TCP -> ChannelStatus.Kind.TCP;
            case SERIAL -> ChannelStatus.Kind.SERIAL;
            case USB -> ChannelStatus.Kind.USB;
        };
    }

    /** The id of the mux session a stream belongs to, else 0. */
    long sessionId() {
        if (countedChannel() instanceof MuxStreamChannel s) {
            ChannelStats link = of(s.session().link());
            return link != null ? link.id() : 0;
        }
        return 0;
    }

    /** This channel's status now; {@code streamsOpen} as the caller counted them. */
    ChannelStatus snapshot(int streamsOpen) {
        Channel channel = countedChannel();
        String closed = closeCause;
        ChannelStatus.State state;
        if (closed != null) {
            state = ChannelStatus.State.CLOSED;
        } else if (inputShut() || channel instanceof DuplexChannel d && d.isOutputShutdown()) {
            state = ChannelStatus.State.HALF_CLOSED;
        } else {
            state = ChannelStatus.State.OPEN;
        }
        long stalls = channel instanceof MuxStreamChannel s ? s.windowStalls() : 0;
        return new ChannelStatus(id(), kind(), service(), sessionId(), local(), remote(), Instant.ofEpochMilli(openedAt),
                state, bytesIn(), bytesOut(), framesIn(), framesOut(), Math.max(0, queuedBytes()),
                closed == null && channel.isWritable(), time((long) LAST_READ.getOpaque(this)),
                time((long) LAST_WRITE.getOpaque(this)), closed, streamsOpen, stalls, reconnects);
    }

    private static Instant time(long millis) {
        return millis == 0 ? null : Instant.ofEpochMilli(millis);
    }
}
