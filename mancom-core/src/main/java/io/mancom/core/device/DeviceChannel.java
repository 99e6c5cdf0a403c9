package io.mancom.core.device;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
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
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyConnectedException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Netty {@link io.netty.channel.Channel} over a {@link DeviceLink}: the one channel every
 * byte-pipe device (serial line, USB bulk pair) is served through, so the runtime's handlers work
 * on devices exactly as on TCP sockets.
 *
 * <p>Like Netty's {@code LocalChannel} and HTTP/2 stream channels it has no selector: it is
 * registered on any event loop of the runtime's group, a reader thread feeds it, and writes are
 * handed to a blocking thread.
 *
 * <pre>
 *   device ──read()──▶ reader thread ──eventLoop().execute──▶ inbound chunks ──copy──▶ channelRead
 *          ◀─write()── writer task   ◀──────── doWrite (one batch at a time) ◀── flush
 * </pre>
 *
 * <h2>Lifecycle</h2>
 * The channel is open and active from construction (the link is already open) until it closes.
 * Registering it on an event loop starts the reader; it must be registered at most once. It closes
 * when the pipeline closes it, or when the device fails or reaches end of stream. Closing closes
 * the link on a blocking thread; {@link #releaseFuture()} completes once the link is closed and no
 * reader or writer thread is inside it any more, which is when the device may be opened again.
 *
 * <h2>Reading and backpressure</h2>
 * The reader thread reads chunks of up to {@link Options#readChunk()} bytes into staging arrays of
 * its own and hands each to the event loop, which copies it into a buffer from the channel's
 * allocator as the pipeline reads it (so the allocator is only used on the loop). At most
 * {@link Options#readsInFlight()} chunks exist between the reader and the pipeline: when the
 * pipeline stops reading (auto-read off, no {@code read()} pending), they fill, the reader blocks,
 * and the device's and the operating system's buffers fill until the peer is held back (by flow
 * control on a real line, by a blocked writer on a pty). A stalled channel holds
 * {@code readChunk * readsInFlight} bytes of arrays and no buffer; memory does not grow. With auto-read off, each {@code read()}
 * delivers one chunk; with auto-read on, everything queued is delivered in one batch followed by
 * {@code channelReadComplete}.
 *
 * <h2>Writing</h2>
 * Only {@link ByteBuf}s are accepted. A device write may block for long (a slow baud rate, a peer
 * holding flow control), so writes never run on the event loop: {@code doWrite} hands one batch
 * of up to {@link Options#writeBatch()} bytes (and at most half the low write-buffer water mark, so
 * that the queue behind it keeps the writer busy) to a blocking thread and returns; the batch's
 * messages stay in the {@link ChannelOutboundBuffer} until the device has taken them, so the
 * write promises complete when the bytes are handed to the device driver and the channel's
 * writability follows the device's real progress. There is never more than one batch in flight,
 * so there is no second, unbounded queue.
 *
 * <h2>Errors and closing</h2>
 * A read or write failure, end of stream, or a failure the link reports by itself
 * ({@link DeviceLink#onFailure}) fires {@code exceptionCaught} with the cause once and closes the
 * channel; {@link #closeCause()} keeps the cause. A local close is not a failure:
 * errors the device reports while it is being closed are dropped. Chunks still queued when the
 * channel closes are released, not delivered.
 *
 * <h2>Threading and buffer ownership</h2>
 * All pipeline events run on the channel's event loop. Each chunk passed to {@code channelRead}
 * is a fresh buffer owned by the pipeline, which must release it. The channel retains written buffers only until
 * the device has taken them.
 */
public final class DeviceChannel extends AbstractChannel {
    private static final Logger log = LoggerFactory.getLogger(DeviceChannel.class);
    private static final ChannelMetadata METADATA = new ChannelMetadata(false);
    /** Written messages handed to the writer at once, at most: bounds the batch's bookkeeping. */
    private static final int MAX_BATCH_MESSAGES = 64;

    private final DeviceLink link;
    private final Executor ioExecutor;
    private final Options options;
    private final DeviceConfig config;
    private final DeviceAddress localAddress;
    private final DeviceAddress remoteAddress;

    // Between the reader thread and the loop. A permit is one staging array the reader may fill;
    // filled arrays wait in `inbound` until the pipeline reads them.
    private final Semaphore readPermits;
    private final ConcurrentLinkedQueue<byte[]> freeArrays = new ConcurrentLinkedQueue<>();
    // Chunks on their way to the loop. One task moves all that have arrived: while the loop is
    // busy the reader does not wake it again for every chunk.
    private final ConcurrentLinkedQueue<Chunk> arrived = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final AtomicBoolean readerStarted = new AtomicBoolean();
    private volatile boolean closing;

    // The device may be reopened once nobody holds it: the open link itself, the reader while it
    // runs, and the writer while a batch is in flight each hold it once.
    private final AtomicInteger holds = new AtomicInteger(1);
    private final AtomicBoolean linkClosed = new AtomicBoolean();
    private final CompletableFuture<Void> released = new CompletableFuture<>();

    // Event-loop state.
    private final ArrayDeque<Chunk> inbound = new ArrayDeque<>();
    private volatile boolean open = true;
    private volatile Throwable closeCause;
    private boolean readRequested;
    private boolean delivering;
    private boolean deliverScheduled;
    private boolean writing;

    /** A channel over {@code link} with {@link Options#DEFAULT} options. */
    public DeviceChannel(DeviceLink link, Executor ioExecutor) {
        this(link, ioExecutor, Options.DEFAULT);
    }

    /**
     * A channel over an open link. The channel owns the link from now on: closing the channel
     * closes it (so does a failed registration).
     *
     * @param ioExecutor runs the reader (one thread for the channel's life) and the write batches;
     *                   normally {@link io.mancom.core.NettyRuntime#blockingExecutor()}
     */
    public DeviceChannel(DeviceLink link, Executor ioExecutor, Options options) {
        super(null);
        this.link = Objects.requireNonNull(link, "link");
        this.ioExecutor = Objects.requireNonNull(ioExecutor, "ioExecutor");
        this.options = Objects.requireNonNull(options, "options");
        this.readPermits = new Semaphore(options.readsInFlight());
        this.localAddress = new DeviceAddress(link.local());
        this.remoteAddress = new DeviceAddress(link.remote());
        this.config = new DeviceConfig();
    }

    /**
     * Tuning of a device channel.
     *
     * @param readChunk     the largest chunk one device read fills, in bytes (at least 1)
     * @param readsInFlight chunks that may be read ahead of the pipeline (at least 1); the memory
     *                      a stalled reader holds is at most {@code readChunk * readsInFlight}
     * @param writeBatch    bytes handed to the device in one blocking write batch (at least 1)
     */
    public record Options(int readChunk, int readsInFlight, int writeBatch) {
        /** 4 KiB chunks (a tty delivers at most 4 KiB per read), 4 in flight, 64 KiB batches. */
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
        return released;
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
        // No selector or completion queue is involved: any event loop can run this channel.
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
        if (readerStarted.compareAndSet(false, true)) {
            link.onFailure(this::linkFailed);
            holds.incrementAndGet();
            try {
                ioExecutor.execute(this::readLoop);
            } catch (RejectedExecutionException e) {
                releaseHold();
                promise.setFailure(new ManComException(Reason.CLOSED,
                        remoteAddress + ": cannot start the device reader (the runtime is shutting down)", e));
                return;
            }
        }
        promise.setSuccess();
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
        closing = true;
        // Wake a reader that waits for a permit; it sees `closing` and leaves.
        readPermits.release(options.readsInFlight() + 1);
        inbound.clear(); // plain arrays: nothing to release
        arrived.clear();
        // Closing a device may block (drivers flush and join their threads): not on the loop. It
        // also makes a reader or a writer blocked inside the link return.
        try {
            ioExecutor.execute(this::closeLink);
        } catch (RejectedExecutionException e) {
            closeLink();
        }
    }

    @Override
    protected void doBeginRead() {
        assert eventLoop().inEventLoop();
        readRequested = true;
        // Delivered from a task of its own, never inside read(): a handler that calls read() must
        // not find itself called back before read() returns (NIO channels behave the same way).
        if (!delivering && !deliverScheduled && !inbound.isEmpty()) {
            deliverScheduled = true;
            eventLoop().execute(() -> {
                deliverScheduled = false;
                deliver();
            });
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf) {
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: " + StringUtil.simpleClassName(msg)
                + " (a device channel writes ByteBufs only)");
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        assert eventLoop().inEventLoop();
        if (writing) {
            return; // writeDone flushes again once the batch in flight is written
        }
        Object current;
        while ((current = in.current()) != null && !((ByteBuf) current).isReadable()) {
            in.remove();
        }
        if (current == null) {
            return;
        }
        List<ByteBuf> batch = new ArrayList<>();
        long[] size = {0};
        // A batch of at most half the low-water mark: while the writer works on it, what stays
        // queued keeps the channel unwritable-or-nearly, the application keeps writing, and the
        // next batch is ready when this one is done (a batch of the whole queue would leave the
        // writer idle while the application is woken to refill it).
        int limit = Math.max(1024, Math.min(options.writeBatch(), config.getWriteBufferLowWaterMark() / 2));
        in.forEachFlushedMessage(msg -> {
            ByteBuf b = (ByteBuf) msg;
            if (b.isReadable()) {
                // The writer gets references of its own: if the channel closes while it writes,
                // the outbound buffer releases its messages, and the writer still reads valid memory.
                batch.add(b.retainedSlice());
                size[0] += b.readableBytes();
            }
            return size[0] < limit && batch.size() < MAX_BATCH_MESSAGES;
        });
        writing = true;
        holds.incrementAndGet();
        try {
            ioExecutor.execute(() -> writeBatch(batch));
        } catch (RejectedExecutionException e) {
            writing = false;
            batch.forEach(ByteBuf::release);
            releaseHold();
            throw new ManComException(Reason.CLOSED, remoteAddress + ": cannot write (the runtime is shutting down)", e);
        }
    }

    // ---- reader thread ----

    private void readLoop() {
        byte[] array = null;
        Throwable failure = null;
        try {
            while (!closing) {
                if (array == null) {
                    readPermits.acquire();
                    if (closing) {
                        break;
                    }
                    array = freeArrays.poll();
                    if (array == null) {
                        array = new byte[options.readChunk()]; // at most readsInFlight of them, ever
                    }
                }
                int n = link.read(array, 0, array.length);
                if (n == 0) {
                    continue; // the link's read timeout: look at `closing`, keep the array
                }
                if (n < 0) {
                    failure = new ManComException(Reason.LINK_FAILED,
                            remoteAddress + ": the device reached end of stream (it was closed or removed)");
                    break;
                }
                arrived.offer(new Chunk(array, n));
                array = null;
                if (drainScheduled.compareAndSet(false, true)) {
                    try {
                        eventLoop().execute(this::drainArrived);
                    } catch (RejectedExecutionException e) {
                        break; // the loop is gone: the runtime is shutting down
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = new ManComException(Reason.CLOSED, remoteAddress + ": device reader interrupted", e);
        } catch (Throwable t) {
            failure = t;
        }
        if (!closing) {
            if (failure != null) {
                Throwable cause = failure;
                try {
                    eventLoop().execute(() -> failed(cause));
                } catch (RejectedExecutionException e) {
                    log.debug("{}: device failed while the runtime shut down", remoteAddress, cause);
                }
            }
            // Nobody reads any more: release the device now rather than after the loop got round
            // to closing the channel (or never, if the loop is gone).
            closeLink();
        }
        releaseHold();
    }

    /** A failure the link reported by itself (not from a read or write), on any thread. */
    private void linkFailed(IOException cause) {
        if (closing) {
            return;
        }
        try {
            eventLoop().execute(() -> failed(cause));
        } catch (RejectedExecutionException e) {
            log.debug("{}: device failed while the runtime shut down", remoteAddress, cause);
        }
    }

    private void drainArrived() {
        // Cleared before polling: a chunk offered after the last poll schedules a new drain.
        drainScheduled.set(false);
        for (Chunk c; (c = arrived.poll()) != null; ) {
            if (open) {
                inbound.add(c);
            }
        }
        deliver();
    }

    private void deliver() {
        if (delivering) {
            return;
        }
        delivering = true;
        try {
            while (open && readRequested && !inbound.isEmpty()) {
                readRequested = false; // this read() is answered by the batch below
                do {
                    Chunk chunk = inbound.poll();
                    // Buffers are allocated here, on the loop, never on the reader thread: pooled
                    // allocators are built for (and fastest on) their event-loop threads.
                    ByteBuf buf = config.getAllocator().buffer(chunk.length());
                    buf.writeBytes(chunk.data(), 0, chunk.length());
                    freeArrays.offer(chunk.data());
                    readPermits.release();
                    pipeline().fireChannelRead(buf);
                } while (open && !inbound.isEmpty() && config.isAutoRead());
                // With auto-read on, the pipeline's head calls read() from here, which sets
                // readRequested again and this loop goes on with what has arrived meanwhile.
                pipeline().fireChannelReadComplete();
            }
        } finally {
            delivering = false;
        }
    }

    private void clearReadRequest() {
        if (!isRegistered()) {
            readRequested = false; // no loop yet, so no other thread looks at it
            return;
        }
        EventLoop loop = eventLoop();
        if (loop.inEventLoop()) {
            readRequested = false;
        } else {
            loop.execute(() -> readRequested = false);
        }
    }

    // ---- writer ----

    private void writeBatch(List<ByteBuf> batch) {
        long written = 0;
        Throwable failure = null;
        try {
            for (ByteBuf b : batch) {
                if (closing) {
                    break;
                }
                int len = b.readableBytes();
                for (ByteBuffer nio : b.nioBuffers()) {
                    link.write(nio);
                }
                written += len;
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            batch.forEach(ByteBuf::release);
        }
        long w = written;
        Throwable f = failure;
        try {
            eventLoop().execute(() -> writeDone(w, f));
        } catch (RejectedExecutionException e) {
            log.debug("{}: write finished while the runtime shut down", remoteAddress, f);
        }
        releaseHold();
    }

    private void writeDone(long written, Throwable failure) {
        ChannelOutboundBuffer in = unsafe().outboundBuffer();
        if (in == null) {
            writing = false;
            return; // closed meanwhile; closing failed the writes still queued
        }
        if (written > 0) {
            // Still "writing" while the written bytes are removed: removing a buffer can fire
            // writability, and an application that writes and flushes from that callback must not
            // start a batch here, before the partly written buffer's reader index has moved past
            // what the device already took (that batch would send those bytes twice).
            in.removeBytes(written);
        }
        writing = false;
        if (failure != null) {
            if (in.current() != null) {
                in.remove(failure);
            }
            failed(failure);
            return;
        }
        ((DeviceUnsafe) unsafe()).flushMore();
    }

    // ---- closing ----

    private void failed(Throwable cause) {
        assert eventLoop().inEventLoop();
        if (!open) {
            return; // closed already: by the pipeline, or by the other of reader and writer
        }
        closeCause = cause;
        pipeline().fireExceptionCaught(cause);
        if (open) {
            unsafe().close(unsafe().voidPromise());
        }
    }

    private void closeLink() {
        if (linkClosed.compareAndSet(false, true)) {
            try {
                link.close();
            } catch (Throwable t) {
                log.warn("{}: closing the device failed", remoteAddress, t);
            } finally {
                releaseHold();
            }
        }
    }

    private void releaseHold() {
        if (holds.decrementAndGet() == 0) {
            released.complete(null);
        }
    }

    /** Bytes the reader has read: {@code length} bytes at the start of one of its staging arrays. */
    private record Chunk(byte[] data, int length) {
    }

    /** Chunks read from the device and not yet delivered to the pipeline; for tests. */
    int chunksInFlight() {
        return options.readsInFlight() - Math.min(options.readsInFlight(), readPermits.availablePermits());
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
