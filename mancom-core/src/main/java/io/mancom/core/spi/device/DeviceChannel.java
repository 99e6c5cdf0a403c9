package io.mancom.core.spi.device;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.util.internal.StringUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.AlreadyConnectedException;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * A Netty {@link io.netty.channel.Channel} over a {@link DeviceLink}: the one channel every
 * byte-pipe device (serial line, USB bulk pair) is served through, so the runtime's handlers work
 * on devices exactly as on TCP sockets.
 *
 * <p>The channel is the glue between Netty and the device: lifecycle, addresses, config, the
 * close cause and the device's release. How bytes move is up to its {@link DeviceIo}, chosen once
 * from the link: a link that offers a non-blocking file descriptor ({@link DeviceLink#descriptor()}:
 * a serial port on Linux) is served by {@link EpollDeviceIo}, where the epoll loop the channel is
 * registered on reads and writes the descriptor itself as for a Netty socket; any other link (USB,
 * or serial where the loops are NIO) by {@link ThreadedDeviceIo}, a reader thread with a bounded
 * read-ahead and a writer task fed in batches, on any event loop (like Netty's
 * {@code LocalChannel}, the channel then needs no selector).
 *
 * <h2>Lifecycle</h2>
 * The channel is open and active from construction (the link is already open) until it closes.
 * Registering it on an event loop starts its engine; it must be registered at most once. It closes
 * when the pipeline closes it, or when the device fails or reaches end of stream. Closing stops the
 * engine and closes the link on a blocking thread; {@link #releaseFuture()} completes once the link
 * is closed and no reader or writer thread is inside it any more, which is when the device may be
 * opened again.
 *
 * <h2>Reading, writing and backpressure</h2>
 * Both engines read only while the pipeline asks (auto-read, or {@code read()}), so an application
 * that stops reading holds the device back with bounded memory; and both leave written messages in
 * the {@link ChannelOutboundBuffer} until the device has taken them, so write promises complete
 * when the bytes are handed to the device driver and writability follows the device's real
 * progress. Only {@link ByteBuf}s are accepted.
 *
 * <h2>Errors and closing</h2>
 * A read or write failure, end of stream, or a failure the link reports by itself
 * ({@link DeviceLink#onFailure}) fires {@code exceptionCaught} with the cause once and closes the
 * channel; {@link #closeCause()} keeps the cause. A local close is not a failure:
 * errors the device reports while it is being closed are dropped. Bytes still read ahead when the
 * channel closes are dropped, not delivered.
 *
 * <h2>Threading and buffer ownership</h2>
 * All pipeline events run on the channel's event loop. Each buffer passed to {@code channelRead}
 * is a fresh buffer owned by the pipeline, which must release it. The channel retains written buffers only until
 * the device has taken them.
 */
public final class DeviceChannel extends AbstractChannel {
    private static final Logger log = LoggerFactory.getLogger(DeviceChannel.class);
    private static final ChannelMetadata METADATA = new ChannelMetadata(false);
    /** The largest read-ahead {@link Options} allow: 64 MiB. */
    private static final int MAX_READ_AHEAD = 64 << 20;

    private final Executor ioExecutor;
    private final DeviceConfig config;
    private final DeviceAddress localAddress;
    private final DeviceAddress remoteAddress;
    private final LinkHolds holds;
    private final DeviceIo io;
    private final DeviceLink link;

    private volatile boolean open = true;
    private volatile Throwable closeCause;

    /** A channel over {@code link} with {@link Options#DEFAULT} options. */
    public DeviceChannel(DeviceLink link, Executor ioExecutor) {
        this(link, ioExecutor, Options.DEFAULT);
    }

    /**
     * A channel over an open link. The channel owns the link from now on: closing the channel
     * closes it (so does a failed registration).
     *
     * @param ioExecutor closes the link, and (for links without a descriptor) runs the reader (one
     *                   thread for the channel's life) and the write batches; normally
     *                   {@link io.mancom.core.spi.NettyRuntime#blockingExecutor()}
     */
    public DeviceChannel(DeviceLink link, Executor ioExecutor, Options options) {
        super(null);
        Objects.requireNonNull(link, "link");
        this.ioExecutor = Objects.requireNonNull(ioExecutor, "ioExecutor");
        Objects.requireNonNull(options, "options");
        this.localAddress = new DeviceAddress(link.local());
        this.remoteAddress = new DeviceAddress(link.remote());
        this.config = new DeviceConfig();
        this.holds = new LinkHolds(link);
        this.link = link;
        // The one place that knows the engines: a descriptor means the event loop can serve it.
        this.io = link.descriptor() >= 0 ? new EpollDeviceIo(this, link)
                : new ThreadedDeviceIo(this, link, ioExecutor, options, holds);
    }

    /**
     * Tuning of a device channel.
     *
     * @param readChunk     the most one device read is asked for, and the largest buffer passed to
     *                      {@code channelRead}, in bytes (at least 1)
     * @param readsInFlight the read-ahead in chunks (at least 1): the channel reads at most
     *                      {@link #readAhead()} {@code = readChunk * readsInFlight} bytes ahead of
     *                      the pipeline, into one array of that size allocated with the channel;
     *                      that array is all the memory a stalled reader holds
     * @param writeBatch    bytes handed to the device in one blocking write batch (at least 1)
     */
    public record Options(int readChunk, int readsInFlight, int writeBatch) {
        /** 4 KiB chunks (a tty delivers at most 4 KiB per read), 16 KiB read-ahead, 64 KiB batches. */
        public static final Options DEFAULT = new Options(4096, 4, 64 * 1024);

        public Options {
            if (readChunk < 1) {
                throw new IllegalArgumentException("readChunk < 1: " + readChunk);
            }
            if (readsInFlight < 1) {
                throw new IllegalArgumentException("readsInFlight < 1: " + readsInFlight);
            }
            if (writeBatch < 1) {
                throw new IllegalArgumentException("writeBatch < 1: " + writeBatch);
            }
            if ((long) readChunk * readsInFlight > MAX_READ_AHEAD) {
                throw new IllegalArgumentException("read-ahead readChunk * readsInFlight over " + MAX_READ_AHEAD
                        + " bytes: " + readChunk + " * " + readsInFlight);
            }
        }

        /** The most bytes read ahead of the pipeline: {@code readChunk * readsInFlight}. */
        public int readAhead() {
            return readChunk * readsInFlight;
        }
    }

    /** Why the channel closed: the device failure, or null while open or after a local close. */
    public Throwable closeCause() {
        return closeCause;
    }

    /**
     * Completes (never exceptionally) once the channel is closed and the device is released: the
     * link is closed and no reader or writer is inside it. A device is reopened only after this.
     */
    public CompletionStage<Void> releaseFuture() {
        return holds.released();
    }

    /** The link's line control (a serial line's DTR, RTS, break, settings), or null if it has none. */
    public io.mancom.spi.LineControl lineControl() {
        return link instanceof io.mancom.spi.LineControl c ? c : null;
    }

    /**
     * The descriptor the event loop serves for this channel ({@link DeviceLink#descriptor()}), or -1
     * when the channel is served by threads. It belongs to the link and is valid while the channel
     * is open; read it on the channel's event loop, where an open channel's link is not closed yet
     * (the daemon duplicates it there to hand the line to a process).
     */
    public int descriptor() {
        return io instanceof EpollDeviceIo ? link.descriptor() : -1;
    }

    /** Runs blocking work for this channel (the executor given at construction). */
    public Executor ioExecutor() {
        return ioExecutor;
    }

    /** The engine that moves this channel's bytes; for tests. */
    DeviceIo io() {
        return io;
    }

    @Override
    public DeviceAddress localAddress() {
        return localAddress;
    }

    @Override
    public DeviceAddress remoteAddress() {
        return remoteAddress;
    }

    @Override
    public ChannelConfig config() {
        return config;
    }

    @Override
    public boolean isOpen() {
        return open;
    }

    @Override
    public boolean isActive() {
        return open;
    }

    @Override
    public ChannelMetadata metadata() {
        return METADATA;
    }

    @Override
    protected AbstractUnsafe newUnsafe() {
        return new DeviceUnsafe();
    }

    @Override
    protected boolean isCompatible(EventLoop loop) {
        // The engine checks the loop when it registers (and says what it needs if it does not fit).
        return true;
    }

    @Override
    protected SocketAddress localAddress0() {
        return localAddress;
    }

    @Override
    protected SocketAddress remoteAddress0() {
        return remoteAddress;
    }

    @Override
    protected void doRegister(ChannelPromise promise) {
        io.register(promise);
    }

    @Override
    protected void doBind(SocketAddress localAddress) {
        throw new UnsupportedOperationException("a device channel is opened by its DeviceOpener, not bound");
    }

    @Override
    protected void doDisconnect() {
        doClose();
    }

    @Override
    protected void doClose() {
        if (!open) {
            return;
        }
        open = false;
        io.stop();
        // Closing a device may block (drivers flush and join their threads): not on the loop. It
        // also makes a reader or a writer blocked inside the link return.
        try {
            ioExecutor.execute(holds::closeLink);
        } catch (RejectedExecutionException e) {
            holds.closeLink();
        }
    }

    @Override
    protected void doBeginRead() {
        assert eventLoop().inEventLoop();
        io.beginRead();
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf b) {
            return io.filterOutbound(b);
        }
        throw new UnsupportedOperationException("unsupported message type: " + StringUtil.simpleClassName(msg)
                + " (a device channel writes ByteBufs only)");
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        assert eventLoop().inEventLoop();
        io.write(in);
    }

    // ---- for the engines ----

    /**
     * The device failed: fires the cause once and closes the channel. On the loop; does nothing
     * once the channel is closed (by the pipeline, or by an earlier failure).
     */
    void failed(Throwable cause) {
        assert eventLoop().inEventLoop();
        if (!open) {
            return;
        }
        closeCause = cause;
        pipeline().fireExceptionCaught(cause);
        closeIfOpen();
    }

    /** A failure the link reported by itself (not from a read or write), on any thread. */
    void linkFailed(IOException cause) {
        if (!open) {
            return;
        }
        try {
            eventLoop().execute(() -> failed(cause));
        } catch (RejectedExecutionException e) {
            log.debug("{}: device failed while the runtime shut down", remoteAddress, cause);
        }
    }

    /** Closes the channel unless it is closed already; on the loop. */
    void closeIfOpen() {
        if (open) {
            unsafe().close(unsafe().voidPromise());
        }
    }

    /** Writes what is flushed and still queued: the engine has room again. On the loop. */
    void flushMore() {
        ((DeviceUnsafe) unsafe()).flushMore();
    }

    private void clearReadRequest() {
        if (!isRegistered()) {
            io.clearReadRequest(); // no loop yet, so no other thread looks at it
            return;
        }
        EventLoop loop = eventLoop();
        if (loop.inEventLoop()) {
            io.clearReadRequest();
        } else {
            loop.execute(io::clearReadRequest);
        }
    }

    private final class DeviceUnsafe extends AbstractUnsafe {
        @Override
        public void connect(SocketAddress remote, SocketAddress local, ChannelPromise promise) {
            // A device channel is connected from the start.
            safeSetFailure(promise, new AlreadyConnectedException());
        }

        void flushMore() {
            flush0();
        }
    }

    private final class DeviceConfig extends DefaultChannelConfig {
        DeviceConfig() {
            super(DeviceChannel.this);
        }

        @Override
        protected void autoReadCleared() {
            clearReadRequest();
        }
    }
}
