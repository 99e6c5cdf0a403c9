package io.mancom.core.internal;

import io.mancom.Connection;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.SerialLine;
import io.mancom.WritabilityListener;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.device.DeviceChannel;
import io.mancom.core.internal.monitor.ChannelStats;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.DuplexChannel;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Connection} over a Netty channel: a TCP socket, a device channel or a mux stream. The
 * pipeline side is {@link ConnectionHandler}; this class is what the application holds.
 *
 * <p>It is also the connection's {@link ChannelStats} (monitoring): bytes in are counted by the
 * handler as it hands them on, bytes out in the completion listener every write has anyway, and
 * the write queue is the count {@code max-pending} is checked against. A length-prefix framing
 * adds its prefix to each message counted, so the counts are the bytes on the link.
 */
final class ChannelConnection extends ChannelStats implements Connection {
    private final long id;
    private final String service;
    private final Channel channel;
    private final EndPoint local;
    private final EndPoint remote;
    private final long maxPending;
    private final AtomicLong queuedBytes = new AtomicLong();
    private final CompletableFuture<Void> closeFuture = new CompletableFuture<>();
    final ReadGate gate;
    final Lane lane;
    final ConnectionHandler handler;
    private volatile WritabilityListener writabilityListener;
    private volatile Object attachment;
    private volatile boolean closing;
    private volatile boolean outputShut;
    private volatile SerialLine serialLine;
    private final boolean pausesWhenUnwritable;
    /** Bytes the framing adds to each message on the link (a length prefix), for the counters. */
    final int framingOverhead;

    ChannelConnection(long id, String service, Channel channel, EndPoint local, EndPoint remote,
                      ServiceSettings settings, Inbound inbound, boolean pausesWhenUnwritable) {
        this(id, service, channel, local, remote, settings, inbound, pausesWhenUnwritable, 0);
    }

    /** @param framingOverhead bytes the framing adds to each message (a length prefix; 0 for none or lines) */
    ChannelConnection(long id, String service, Channel channel, EndPoint local, EndPoint remote,
                      ServiceSettings settings, Inbound inbound, boolean pausesWhenUnwritable, int framingOverhead) {
        this.framingOverhead = framingOverhead;
        this.id = id;
        this.pausesWhenUnwritable = pausesWhenUnwritable;
        this.service = service;
        this.channel = channel;
        this.local = local;
        this.remote = remote;
        ServiceSettings.WriteBuffer wb = settings.writeBuffer();
        this.maxPending = wb.maxPending();
        channel.config().setWriteBufferWaterMark(waterMark(channel, wb));
        // The peer's end of input is an event (onInputShutdown), not a close: a request/response
        // peer may half-close and still wait for the answer. Links without half-close ignore it.
        channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        this.gate = new ReadGate(channel);
        this.lane = new Lane(channel.eventLoop());
        this.handler = new ConnectionHandler(this, inbound);
    }

    Channel channel() {
        return channel;
    }

    /**
     * The service's write-queue marks; for a mux stream at most one initial window. A stream can
     * send only as far as its credit, and the link below keeps several frames queued of its own, so
     * a deeper stream queue only holds bytes longer: with a thousand streams each queueing 256 KiB,
     * bytes waited so long in round robin that the mux ran at half the speed of one connection.
     */
    private static WriteBufferWaterMark waterMark(Channel channel, ServiceSettings.WriteBuffer wb) {
        if (channel instanceof MuxStreamChannel) {
            int high = Math.min(wb.highWater(), MuxSettings.INITIAL_WINDOW);
            return new WriteBufferWaterMark(Math.min(wb.lowWater(), high / 2), high);
        }
        return new WriteBufferWaterMark(wb.lowWater(), wb.highWater());
    }

    /**
     * Whether reading pauses while the connection is not writable: its write queue is over its
     * high-water mark, or (a mux stream) it has no credit left or waits for its turn on a full
     * link (MuxStreamChannel#isWritable). Only for callback
     * connections a service accepted: if both ends of a link paused their reads on their own
     * full write queues, a full-duplex transfer would wait on itself. Clients keep reading (their
     * writes fail at max-pending instead), and blocking connections need no pause: their writes
     * block the writer.
     */
    boolean pausesWhenUnwritable() {
        return pausesWhenUnwritable;
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public String service() {
        return service;
    }

    @Override
    public EndPoint local() {
        return local;
    }

    @Override
    public EndPoint remote() {
        return remote;
    }

    /** Why a write now must fail (output shut down, closed), or null if it may go ahead. */
    ManComException writeRefusal() {
        if (outputShut) { // first: it is the reason, even if the connection has closed since
            return new ManComException(ManComException.Reason.CLOSED,
                    "connection #" + id + " (service '" + service + "', " + remote + ") has shut down its output "
                            + "(shutdownOutput): it can still read, not write");
        }
        if (closing || !channel.isActive()) {
            return closedException();
        }
        return null;
    }

    @Override
    public CompletionStage<Void> write(ByteBuffer data) {
        int n = data.remaining();
        ManComException refused = writeRefusal();
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        if (queuedBytes.get() + n > maxPending) {
            ManComException full = new ManComException(ManComException.Reason.WRITE_QUEUE_FULL,
                    "write queue of connection #" + id + " (service '" + service + "') is at its limit of " + maxPending
                            + " bytes (write-buffer.max-pending): the peer is not reading fast enough; "
                            + "wait until isWritable() or the writability listener says so before writing more");
            error(full); // counted in the service's errors; the connection stays open
            return CompletableFuture.failedFuture(full);
        }
        ByteBuf buf = handler.lentBufferFor(data);
        if (buf == null) {
            buf = channel.alloc().directBuffer(n);
            buf.writeBytes(data.duplicate());
        }
        queuedBytes.addAndGet(n);
        CompletableFuture<Void> result = new CompletableFuture<>();
        ChannelPromise promise = channel.newPromise();
        promise.addListener((ChannelFutureListener) f -> {
            queuedBytes.addAndGet(-n);
            if (f.isSuccess()) {
                sent(n == 0 ? 0 : n + framingOverhead); // an empty write sends nothing, framed or not
                result.complete(null);
            } else {
                result.completeExceptionally(writeFailure(f.cause()));
            }
        });
        if (channel.eventLoop().inEventLoop() && handler.deferFlush()) {
            // Inside a read batch: flush once when the batch ends (ConnectionHandler.channelReadComplete).
            channel.write(buf, promise);
        } else {
            flushing();
            channel.writeAndFlush(buf, promise);
        }
        return result;
    }

    private Throwable writeFailure(Throwable cause) {
        if (cause instanceof ManComException) {
            return cause;
        }
        if (!channel.isActive()) {
            ManComException e = closedException();
            e.initCause(cause);
            return e;
        }
        return new ManComException(ManComException.Reason.LINK_FAILED,
                "write on connection #" + id + " (service '" + service + "') failed: " + cause.getMessage(), cause);
    }

    ManComException closedException() {
        return new ManComException(ManComException.Reason.CLOSED,
                "connection #" + id + " (service '" + service + "', " + remote + ") is closed");
    }

    /** Whether {@link #shutdownOutput()} was called: writes fail from then on, they never wait. */
    boolean isOutputShut() {
        return outputShut;
    }

    @Override
    public CompletionStage<Void> shutdownOutput() {
        if (!(channel instanceof DuplexChannel duplex)) {
            return CompletableFuture.failedFuture(new ManComException(ManComException.Reason.IO,
                    "connection #" + id + " (service '" + service + "', " + remote + ") has no half-close: "
                            + "a " + remote.type().scheme() + " link is one stream of bytes; close it instead"));
        }
        if (closing || !channel.isActive()) {
            return CompletableFuture.failedFuture(closedException());
        }
        outputShut = true;
        CompletableFuture<Void> done = new CompletableFuture<>();
        // After what is queued: an empty write completes after every write before it.
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> duplex.shutdownOutput().addListener(s -> {
            if (s.isSuccess()) {
                done.complete(null);
            } else {
                done.completeExceptionally(writeFailure(s.cause()));
            }
        }));
        return done;
    }

    @Override
    public SerialLine serialLine() throws ManComException {
        if (channel instanceof MuxStreamChannel) {
            throw new ManComException(ManComException.Reason.IO, "connection #" + id + " (service '" + service + "') is a "
                    + "stream of a mux over " + remote + ", not a serial line: the link below is shared by every stream. "
                    + "Line control needs the serial service to run with mux off");
        }
        io.mancom.spi.LineControl control = channel instanceof DeviceChannel d ? d.lineControl() : null;
        if (control == null && remote.type() == io.mancom.TransportType.SERIAL) {
            // Every serial link the runtime opens has line control: this line came from the daemon.
            throw new ManComException(ManComException.Reason.IO, "connection #" + id + " (service '" + service + "') is "
                    + "the serial line " + remote + " handed over by the ManCom daemon (scope = system): the daemon set "
                    + "the line up and keeps its control (DTR, RTS, modem lines, break, baud); set scope = process "
                    + "for the service to control the line from here");
        }
        if (control == null) {
            throw new ManComException(ManComException.Reason.IO, "connection #" + id + " (service '" + service + "', "
                    + remote + ") is not a serial line: line control (DTR, RTS, modem lines, break, baud) exists only on "
                    + "serial:// connections");
        }
        if (!isOpen()) {
            throw closedException();
        }
        SerialLine line = serialLine;
        if (line != null) {
            return line;
        }
        synchronized (this) {
            if (serialLine == null) {
                serialLine = new SerialLineControl(this, control, channel.eventLoop(), ((DeviceChannel) channel).ioExecutor());
            }
            return serialLine;
        }
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void setWritabilityListener(WritabilityListener listener) {
        this.writabilityListener = listener;
    }

    WritabilityListener writabilityListener() {
        return writabilityListener;
    }

    @Override
    public void pauseReading() {
        onLoop(() -> gate.close(ReadGate.USER));
    }

    @Override
    public void resumeReading() {
        onLoop(() -> gate.open(ReadGate.USER));
    }

    void onLoop(Runnable r) {
        if (channel.eventLoop().inEventLoop()) {
            r.run();
        } else {
            channel.eventLoop().execute(r);
        }
    }

    @Override
    public boolean isOpen() {
        return !closing && channel.isActive() && !closeFuture.isDone();
    }

    @Override
    public CompletionStage<Void> closeFuture() {
        return closeFuture;
    }

    CompletableFuture<Void> closeFutureInternal() {
        return closeFuture;
    }

    @Override
    public void attach(Object attachment) {
        this.attachment = attachment;
    }

    @Override
    public Object attachment() {
        return attachment;
    }

    @Override
    public void close() {
        closing = true;
        if (!channel.isOpen()) {
            return;
        }
        // An empty write completes after everything written before it, so queued data goes out first.
        channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** Closes at once with {@code cause} as the close event's cause (a callback threw, say). */
    void abort(Throwable cause) {
        onLoop(() -> {
            handler.recordCause(cause);
            channel.close();
        });
    }

    // ---- ChannelStats: what the monitor reads

    @Override
    protected Channel countedChannel() {
        return channel;
    }

    @Override
    protected long queuedBytes() {
        return queuedBytes.get();
    }

    @Override
    protected Throwable failure() {
        return handler.failure();
    }

    @Override
    protected boolean closedHere() {
        return handler.closedHere();
    }

    @Override
    protected boolean inputShut() {
        return handler.inputShut();
    }

    @Override
    public String toString() {
        return "Connection#" + id + "[" + service + " " + local + " <-> " + remote + "]";
    }
}
