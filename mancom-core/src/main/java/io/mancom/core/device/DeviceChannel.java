package io.mancom.core.device;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.AbstractChannel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelMetadata;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.DefaultChannelConfig;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.Future;
import io.netty.util.internal.StringUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyConnectedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Netty {@link io.netty.channel.Channel} over a {@link DeviceLink}: the one channel every
 * byte-pipe device (serial line, USB bulk pair) is served through, so the runtime's handlers work
 * on devices exactly as on TCP sockets.
 *
 * <p>Two modes, chosen by the link. A link that offers a non-blocking file descriptor
 * ({@link DeviceLink#descriptor()}: a serial port on Linux) is served like a Netty socket: the
 * epoll loop the channel is registered on watches the descriptor, reads it into pooled direct
 * buffers and writes to it when it has room, with no other thread involved. Any other link
 * (USB, or serial where the loops are NIO) is served as described below: like Netty's
 * {@code LocalChannel} and HTTP/2 stream channels the channel has no selector, it is registered
 * on any event loop of the runtime's group, a reader thread feeds it, and writes are handed to a
 * blocking thread. The rest of this description is about that thread mode, except where said.
 *
 * <pre>
 *   device ──read()──▶ reader thread ──▶ read-ahead ring ──(one drain task)──copy──▶ channelRead
 *          ◀─write()── writer task   ◀── batches (one written, the next one ready) ◀── doWrite ◀── flush
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
 * The reader thread reads straight into the channel's read-ahead, one array of
 * {@link Options#readAhead()} bytes used as a ring, asking the device for up to
 * {@link Options#readChunk()} bytes per read. The event loop copies what has been read into a
 * buffer from the channel's allocator (at most {@code readChunk} bytes per buffer) as the pipeline
 * reads it, so the allocator is only used on the loop. The first read after a pause wakes the
 * loop (one task for everything read until it runs); while bytes keep arriving the loop looks for
 * them by itself every {@link #POLL_NANOS} and the reader does not wake it, so a stream costs a
 * few thousand loop wake-ups a second rather than one per device read, and a byte in a stream
 * waits at most that long for the loop. When the pipeline stops reading (auto-read off,
 * no {@code read()} pending) the ring fills, the reader blocks, and the device's and the operating
 * system's buffers fill until the peer is held back (by flow control on a real line, by a blocked
 * writer on a pty). A stalled channel holds its {@code readAhead} bytes and no buffer; memory does
 * not grow. The bound is in bytes, not in reads: a tty that hands out 4 KiB per read still gets
 * the whole read-ahead to run ahead of a loop that is late. With auto-read off, each
 * {@code read()} delivers one buffer of what has been read ahead; with auto-read on, everything
 * read by then is delivered in one batch followed by {@code channelReadComplete}.
 *
 * <h2>Writing</h2>
 * Only {@link ByteBuf}s are accepted. A device write may block for long (a slow baud rate, a peer
 * holding flow control), so writes never run on the event loop: {@code doWrite} hands batches of
 * up to {@link Options#writeBatch()} bytes (and at most half the low write-buffer water mark, so
 * that the queue behind them keeps the writer busy) to a writer task on a blocking thread and
 * returns. At most two batches are handed over at a time: while one is written the next is ready,
 * so the device does not wait for a round trip through the loop between batches. The batches'
 * messages stay in the {@link ChannelOutboundBuffer} until the device has taken them, so the write
 * promises complete when the bytes are handed to the device driver and the channel's writability
 * follows the device's real progress; the batches are slices of those messages, so there is no
 * second queue and no copy.
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
    /** Written messages handed to the writer at once, at most: bounds the batch's bookkeeping. */
    private static final int MAX_BATCH_MESSAGES = 64;
    /** Batches handed to the writer and not yet reported written: one written, the next one ready. */
    private static final int MAX_BATCHES_IN_FLIGHT = 2;
    /**
     * How often the loop looks for read bytes by itself while they keep arriving: the most a
     * byte waits on the reader in a stream. The first bytes after a pause wake the loop at once.
     */
    static final long POLL_NANOS = 200_000;
    /** The largest read-ahead {@link Options} allow: 64 MiB. */
    private static final int MAX_READ_AHEAD = 64 << 20;

    private final DeviceLink link;
    private final Executor ioExecutor;
    private final Options options;
    private final DeviceConfig config;
    private final DeviceAddress localAddress;
    private final DeviceAddress remoteAddress;

    // Between the reader thread and the loop: the read-ahead, a ring of readChunk * readsInFlight
    // bytes. The reader fills it from `produced` on, the loop copies out from `consumed` on; both
    // count bytes since the channel was opened, `produced - consumed` are waiting.
    private final byte[] ring;
    private volatile long produced;
    private volatile long consumed;
    private final Object space = new Object();
    private volatile boolean readerWaiting;
    // One task delivers everything read by the time it runs: while the loop is busy the reader
    // does not wake it again for every read.
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drainArrived;
    // While bytes keep arriving the loop looks for them every POLL_NANOS by itself, and the reader
    // does not wake it: a wake-up per device read (every 4 KiB on a tty) costs the reader its CPU
    // to the woken loop about as often as it reads.
    private volatile boolean loopPolling;
    private final Runnable pollTask = this::poll;
    private long polledUpTo; // loop-only: `produced` when the loop last looked
    private final AtomicBoolean readerStarted = new AtomicBoolean();
    private volatile boolean closing;

    // The device may be reopened once nobody holds it: the open link itself, the reader while it
    // runs, and the writer while a batch is in flight each hold it once.
    private final AtomicInteger holds = new AtomicInteger(1);
    private final AtomicBoolean linkClosed = new AtomicBoolean();
    private final CompletableFuture<Void> released = new CompletableFuture<>();

    // Between the loop and the writer task: batches to write, in order.
    private final ConcurrentLinkedQueue<Batch> batches = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writerRunning = new AtomicBoolean();

    // Descriptor mode: the loop reads and writes the link's descriptor itself (set on registration).
    private DescriptorIo descriptorIo;

    // Event-loop state.
    private volatile boolean open = true;
    private volatile Throwable closeCause;
    private boolean readRequested;
    private boolean delivering;
    private boolean deliverScheduled;
    private int batchesInFlight;
    private long handedOver; // bytes at the head of the outbound buffer that are in those batches
    private boolean removing;

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
        this.ring = new byte[options.readAhead()];
        this.localAddress = new DeviceAddress(link.local());
        this.remoteAddress = new DeviceAddress(link.remote());
        this.config = new DeviceConfig();
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
        if (link.descriptor() >= 0) {
            registerDescriptor(promise);
            return;
        }
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

    /** Descriptor mode: the loop watches the link's descriptor; no reader or writer thread. */
    private void registerDescriptor(ChannelPromise promise) {
        if (descriptorIo != null) {
            promise.setSuccess();
            return;
        }
        if (!(eventLoop() instanceof IoEventLoop loop) || !loop.isCompatible(EpollIoHandle.class)) {
            promise.setFailure(new IllegalStateException(link + " offers a file descriptor, which needs an epoll event "
                    + "loop, but the channel is registered on " + eventLoop()));
            return;
        }
        DescriptorIo io = new DescriptorIo(new FileDescriptor(link.descriptor()));
        Future<IoRegistration> f = loop.register(io);
        f.addListener(done -> {
            if (!done.isSuccess()) {
                promise.setFailure(done.cause());
                return;
            }
            io.registration = f.getNow();
            descriptorIo = io;
            io.start();
            link.onFailure(this::linkFailed);
            promise.setSuccess();
        });
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
        if (descriptorIo != null) {
            // Before the link closes the descriptor: its number may be reused by then.
            descriptorIo.cancel();
        }
        // Wake a reader that waits for space; it sees `closing` and leaves. What it read ahead
        // stays in its plain array: nothing to release.
        synchronized (space) {
            space.notifyAll();
        }
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
        if (descriptorIo != null) {
            descriptorIo.watchReads(true); // epoll calls back when there is something to read
            return;
        }
        // Delivered from a task of its own, never inside read(): a handler that calls read() must
        // not find itself called back before read() returns (NIO channels behave the same way).
        if (!delivering && !deliverScheduled && produced != consumed) {
            deliverScheduled = true;
            eventLoop().execute(() -> {
                deliverScheduled = false;
                deliver();
            });
        }
    }

    @Override
    protected Object filterOutboundMessage(Object msg) {
        if (msg instanceof ByteBuf b) {
            if (descriptorIo != null && !b.isDirect()) {
                // write(2) reads from native memory (as Netty's epoll channels, which copy too).
                ByteBuf direct = config.getAllocator().directBuffer(b.readableBytes());
                direct.writeBytes(b, b.readerIndex(), b.readableBytes());
                b.release();
                return direct;
            }
            return msg;
        }
        throw new UnsupportedOperationException("unsupported message type: " + StringUtil.simpleClassName(msg)
                + " (a device channel writes ByteBufs only)");
    }

    @Override
    protected void doWrite(ChannelOutboundBuffer in) throws Exception {
        assert eventLoop().inEventLoop();
        if (descriptorIo != null) {
            descriptorIo.write(in);
            return;
        }
        // While written bytes are removed, the outbound buffer is between two states (writeDone
        // flushes again afterwards); and at most two batches are handed over.
        while (!removing && batchesInFlight < MAX_BATCHES_IN_FLIGHT) {
            if (handedOver == 0) {
                Object current;
                while ((current = in.current()) != null && !((ByteBuf) current).isReadable()) {
                    in.remove();
                }
            }
            List<ByteBuf> buffers = new ArrayList<>();
            long[] size = {0};
            long[] skip = {handedOver}; // at the head: in the batches already handed over
            // A batch of at most half the low-water mark: while the writer works on it, what stays
            // queued keeps the channel unwritable-or-nearly, the application keeps writing, and the
            // next batches are ready when this one is done (a batch of the whole queue would leave
            // the writer idle while the application is woken to refill it).
            int limit = Math.max(1024, Math.min(options.writeBatch(), config.getWriteBufferLowWaterMark() / 2));
            in.forEachFlushedMessage(msg -> {
                ByteBuf b = (ByteBuf) msg;
                int readable = b.readableBytes();
                if (skip[0] >= readable) {
                    skip[0] -= readable;
                    return true;
                }
                int from = (int) skip[0];
                skip[0] = 0;
                // The writer gets references of its own: if the channel closes while it writes,
                // the outbound buffer releases its messages, and the writer still reads valid memory.
                buffers.add(b.retainedSlice(b.readerIndex() + from, readable - from));
                size[0] += readable - from;
                return size[0] < limit && buffers.size() < MAX_BATCH_MESSAGES;
            });
            if (buffers.isEmpty()) {
                return; // everything flushed is handed over already
            }
            batches.add(new Batch(buffers, size[0]));
            batchesInFlight++;
            handedOver += size[0];
            if (!startWriter()) {
                // The runtime is shutting down: nothing will write these (nor anything later).
                for (Batch b; (b = batches.poll()) != null; ) {
                    b.release();
                }
                throw new ManComException(Reason.CLOSED, remoteAddress + ": cannot write (the runtime is shutting down)");
            }
        }
    }

    // ---- reader thread ----

    private void readLoop() {
        Throwable failure = null;
        try {
            int capacity = ring.length;
            while (!closing) {
                long p = produced;
                int free = capacity - (int) (p - consumed);
                if (free == 0) {
                    awaitSpace();
                    continue;
                }
                int at = (int) (p % capacity);
                // Up to one chunk, into the free space up to the end of the ring (the next read
                // goes on at its start).
                int len = Math.min(options.readChunk(), Math.min(free, capacity - at));
                int n = link.read(ring, at, len);
                if (n == 0) {
                    continue; // the link's read timeout: look at `closing`
                }
                if (n < 0) {
                    failure = new ManComException(Reason.LINK_FAILED,
                            remoteAddress + ": the device reached end of stream (it was closed or removed)");
                    break;
                }
                if (n > len) {
                    throw new IllegalStateException(link + " read " + n + " bytes into a space of " + len);
                }
                produced = p + n; // publishes the bytes to the loop
                // One drain task moves everything read until it runs: while the loop has not got
                // round to it, or while it polls, further reads do not wake it again.
                if (!loopPolling && drainScheduled.compareAndSet(false, true)) {
                    try {
                        eventLoop().execute(drainTask);
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

    /** Blocks the reader while the read-ahead is full, until the loop consumed some or the channel closes. */
    private void awaitSpace() throws InterruptedException {
        synchronized (space) {
            readerWaiting = true;
            try {
                while (!closing && produced - consumed >= ring.length) {
                    space.wait();
                }
            } finally {
                readerWaiting = false;
            }
        }
    }

    /** Wakes a reader that waits for space; called after `consumed` moved, or on close. */
    private void wakeReader() {
        // `consumed` (or `closing`) is written before this volatile read, and the reader sets
        // `readerWaiting` before it reads them: one of the two sees the other's write.
        if (readerWaiting) {
            synchronized (space) {
                space.notifyAll();
            }
        }
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
        // Cleared before `produced` is read: bytes published after that read schedule a new drain.
        drainScheduled.set(false);
        deliver();
        if (!loopPolling && open) {
            // More is likely to follow: look again soon instead of being woken for every read.
            loopPolling = true;
            polledUpTo = produced;
            schedulePoll();
        }
    }

    private void schedulePoll() {
        try {
            eventLoop().schedule(pollTask, POLL_NANOS, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            loopPolling = false; // the loop is shutting down
        }
    }

    private void poll() {
        if (!open) {
            loopPolling = false;
            return;
        }
        long p = produced;
        if (p == polledUpTo) {
            // Nothing arrived for a whole period: the reader wakes the loop again. Cleared before
            // `produced` is read again, the reader publishes before it reads the flag: bytes
            // published meanwhile are seen here, or the reader wakes the loop for them.
            loopPolling = false;
            p = produced;
            if (p == polledUpTo) {
                return;
            }
            loopPolling = true;
        }
        polledUpTo = p;
        deliver();
        schedulePoll();
    }

    private void deliver() {
        if (delivering) {
            return;
        }
        delivering = true;
        try {
            // Only what has been read by now: a reader that keeps up with the loop must not keep it
            // here forever. What arrives later comes with a drain task of its own.
            long end = produced;
            while (open && readRequested && consumed != end) {
                readRequested = false; // this read() is answered by the batch below
                do {
                    long c = consumed;
                    int n = (int) Math.min(end - c, options.readChunk());
                    int at = (int) (c % ring.length);
                    int first = Math.min(n, ring.length - at);
                    // Buffers are allocated here, on the loop, never on the reader thread: pooled
                    // allocators are built for (and fastest on) their event-loop threads.
                    ByteBuf buf = config.getAllocator().buffer(n);
                    buf.writeBytes(ring, at, first);
                    if (first < n) {
                        buf.writeBytes(ring, 0, n - first);
                    }
                    consumed = c + n; // the reader may overwrite those bytes from now on
                    wakeReader();
                    pipeline().fireChannelRead(buf);
                } while (open && consumed != end && config.isAutoRead());
                // With auto-read on, the pipeline's head calls read() from here, which sets
                // readRequested again and this loop goes on with what is left.
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

    /** Starts the writer task unless it runs; on the loop. False if the runtime is shutting down. */
    private boolean startWriter() {
        if (!writerRunning.compareAndSet(false, true)) {
            return true;
        }
        holds.incrementAndGet();
        try {
            ioExecutor.execute(this::writeLoop);
            return true;
        } catch (RejectedExecutionException e) {
            writerRunning.set(false);
            releaseHold();
            return false;
        }
    }

    /**
     * The writer task: writes the queued batches one after the other, tells the loop about each,
     * and ends when none is left. The loop queues the next batch while one is written, so the
     * device does not wait for a round trip through the loop between batches.
     */
    private void writeLoop() {
        boolean failed = false;
        for (;;) {
            Batch batch = batches.poll();
            if (batch == null) {
                writerRunning.set(false);
                // A batch queued between the poll and the flag: go on with it, unless the loop
                // has started another writer for it meanwhile.
                if (batches.isEmpty() || !writerRunning.compareAndSet(false, true)) {
                    break;
                }
                continue;
            }
            if (failed || closing) {
                batch.release(); // the loop fails the writes once it learns of the failure or closes
                continue;
            }
            long written = 0;
            Throwable failure = null;
            try {
                for (ByteBuf b : batch.buffers()) {
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
                failed = true;
            } finally {
                batch.release();
            }
            long w = written;
            long size = batch.bytes();
            Throwable f = failure;
            try {
                eventLoop().execute(() -> writeDone(size, w, f));
            } catch (RejectedExecutionException e) {
                log.debug("{}: write finished while the runtime shut down", remoteAddress, f);
            }
        }
        releaseHold();
    }

    private void writeDone(long size, long written, Throwable failure) {
        batchesInFlight--;
        ChannelOutboundBuffer in = unsafe().outboundBuffer();
        if (in == null) {
            handedOver = 0;
            return; // closed meanwhile; closing failed the writes still queued
        }
        if (written > 0) {
            // Still "removing" while the written bytes are removed: removing a buffer can fire
            // writability, and an application that writes and flushes from that callback must not
            // start a batch here, before the partly written buffer's reader index has moved past
            // what the device already took (that batch would send those bytes twice).
            removing = true;
            try {
                in.removeBytes(written);
            } finally {
                removing = false;
            }
        }
        handedOver -= size;
        if (failure != null) {
            if (in.current() != null) {
                in.remove(failure);
            }
            failed(failure);
            return;
        }
        ((DeviceUnsafe) unsafe()).flushMore();
    }

    /**
     * Buffers handed to the writer: retained slices of flushed messages, so that they stay valid
     * if the channel closes (and the outbound buffer releases its messages) while they are written.
     */
    private record Batch(List<ByteBuf> buffers, long bytes) {
        void release() {
            buffers.forEach(ByteBuf::release);
        }
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

    /** Bytes read from the device and not yet delivered to the pipeline; for tests. */
    int bytesInFlight() {
        return (int) (produced - consumed);
    }

    // ---- descriptor mode ----

    /**
     * The link's descriptor on the channel's epoll loop, served the way Netty serves a socket:
     * level-triggered {@code EPOLLIN} while the pipeline wants to read, {@code EPOLLOUT} while a
     * write is waiting for room. {@code EPOLLHUP} and {@code EPOLLERR} come whatever is asked for,
     * so a device lost while reading is paused still closes the channel at once. All on the loop.
     */
    private final class DescriptorIo implements EpollIoHandle {
        /** Write calls per flush before the loop gets to other channels (Netty's write spin count). */
        private static final int WRITE_SPIN = 16;
        private static final int EPOLLHUP = 0x10;

        private final FileDescriptor fd;
        private IoRegistration registration;
        /**
         * What epoll is asked for. Never NONE: Netty (4.2.18) removes the descriptor from epoll on
         * {@code submit(NONE)} and then fails the next {@code submit} with ENOENT. EPOLLERR, which
         * epoll reports anyway, stands for "nothing".
         */
        private EpollIoOps interest = EpollIoOps.EPOLLERR;
        private RecvByteBufAllocator.Handle recvHandle;
        private final Runnable flushTask = () -> {
            flushScheduled = false;
            ((DeviceUnsafe) unsafe()).flushMore();
        };
        private boolean flushScheduled;

        DescriptorIo(FileDescriptor fd) {
            this.fd = fd;
        }

        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            int ready = ((EpollIoEvent) event).ops().value();
            if ((ready & EpollIoOps.EPOLLOUT.value()) != 0 && open) {
                watch(EpollIoOps.EPOLLOUT, false);
                ((DeviceUnsafe) unsafe()).flushMore();
            }
            boolean hungUp = (ready & (EPOLLHUP | EpollIoOps.EPOLLERR.value())) != 0;
            if (open && ((ready & EpollIoOps.EPOLLIN.value()) != 0 || hungUp)) {
                read(hungUp);
            }
        }

        /** Reads while the pipeline wants it and the device has bytes, then reports a hang-up. */
        private void read(boolean hungUp) {
            if (!readRequested && !hungUp) {
                watchReads(false); // auto-read went off since the last read(): stop being told
                return;
            }
            ChannelConfig cfg = config();
            ByteBufAllocator alloc = cfg.getAllocator();
            RecvByteBufAllocator.Handle h = recvHandle;
            if (h == null) {
                recvHandle = h = cfg.getRecvByteBufAllocator().newHandle();
            }
            h.reset(cfg);
            boolean delivered = false;
            try {
                while (open && readRequested) {
                    readRequested = false; // this read() is answered by the buffers below
                    ByteBuf buf = alloc.directBuffer(h.guess());
                    int n;
                    try {
                        h.attemptedBytesRead(buf.writableBytes());
                        n = fill(buf);
                    } catch (Throwable t) {
                        buf.release();
                        throw t;
                    }
                    h.lastBytesRead(n);
                    if (n == 0) {
                        buf.release();
                        readRequested = true; // nothing there: the read() is still pending
                        break;
                    }
                    h.incMessagesRead(1);
                    delivered = true;
                    pipeline().fireChannelRead(buf);
                    if (!h.continueReading()) {
                        // Auto-read asks again from channelReadComplete; without it the
                        // application asks when it wants more.
                        break;
                    }
                    readRequested = true;
                }
            } catch (IOException e) {
                if (delivered) {
                    pipeline().fireChannelReadComplete();
                }
                failed(link.descriptorFailure(e));
                return;
            }
            h.readComplete();
            if (delivered) {
                pipeline().fireChannelReadComplete();
            }
            if (hungUp && open) {
                failed(link.descriptorFailure(null)); // what was there has been delivered
                return;
            }
            if (open && !readRequested && !cfg.isAutoRead()) {
                watchReads(false); // the pipeline holds back: the device's buffers fill, the peer waits
            }
        }

        /**
         * Reads what the device has into {@code buf} until it is full or the device has no more: a
         * tty hands out at most its 4 KiB line buffer per read(2).
         *
         * @return the bytes read, 0 if none were waiting
         */
        private int fill(ByteBuf buf) throws IOException {
            int total = 0;
            while (buf.isWritable()) {
                int wi = buf.writerIndex();
                int n;
                if (buf.hasMemoryAddress()) {
                    n = fd.readAddress(buf.memoryAddress(), wi, buf.capacity());
                } else {
                    java.nio.ByteBuffer nio = buf.internalNioBuffer(wi, buf.writableBytes());
                    n = fd.read(nio, nio.position(), nio.limit());
                }
                if (n <= 0) {
                    break; // 0: EAGAIN; -1: read(2) gave 0 bytes, which a VMIN=0 tty does when empty
                }
                buf.writerIndex(wi + n);
                total += n;
            }
            return total;
        }

        /** Writes flushed messages until done or the device has no room; then waits for EPOLLOUT. */
        void write(ChannelOutboundBuffer in) throws IOException {
            for (int spin = 0; spin < WRITE_SPIN; spin++) {
                Object msg = in.current();
                if (msg == null) {
                    return; // all written
                }
                ByteBuf b = (ByteBuf) msg;
                int readable = b.readableBytes();
                if (readable == 0) {
                    in.remove();
                    continue;
                }
                long written = writeOnce(b);
                if (written > 0) {
                    in.removeBytes(written);
                }
                if (written < readable) {
                    watch(EpollIoOps.EPOLLOUT, true); // the device's buffer is full: flush on room
                    return;
                }
            }
            // Written for long enough: other channels get the loop, this flush goes on after them.
            if (!flushScheduled) {
                flushScheduled = true;
                eventLoop().execute(flushTask);
            }
        }

        private long writeOnce(ByteBuf b) throws IOException {
            if (b.hasMemoryAddress()) {
                int n = fd.writeAddress(b.memoryAddress(), b.readerIndex(), b.writerIndex());
                return Math.max(n, 0);
            }
            long written = 0;
            for (java.nio.ByteBuffer nio : b.nioBuffers()) {
                int want = nio.remaining();
                int n = fd.write(nio, nio.position(), nio.limit());
                if (n <= 0) {
                    break;
                }
                written += n;
                if (n < want) {
                    break;
                }
            }
            return written;
        }

        /** Puts the descriptor in epoll (Netty adds it on the first submit), for hang-ups at least. */
        void start() {
            try {
                registration.submit(interest);
            } catch (Exception e) {
                failed(e);
            }
        }

        void watchReads(boolean on) {
            watch(EpollIoOps.EPOLLIN, on);
        }

        private void watch(EpollIoOps op, boolean on) {
            EpollIoOps next = on ? interest.with(op) : interest.without(op);
            if (next.equals(interest) || registration == null || !registration.isValid()) {
                return;
            }
            try {
                registration.submit(next);
                interest = next;
            } catch (Exception e) {
                failed(e);
            }
        }

        void cancel() {
            if (registration != null) {
                try {
                    registration.cancel();
                } catch (Exception e) {
                    log.debug("{}: could not stop watching the device", remoteAddress, e);
                }
            }
        }

        @Override
        public void close() {
            // The event loop is shutting down with the channel still on it.
            if (open) {
                unsafe().close(unsafe().voidPromise());
            }
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
