package io.mancom.core.spi.device;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@link DeviceIo} for links served through blocking {@link DeviceLink#read} and
 * {@link DeviceLink#write}: a reader thread and a writer task on the runtime's blocking executor.
 * Like Netty's {@code LocalChannel} the channel then needs no selector and runs on any event loop.
 *
 * <pre>
 *   device ──read()──▶ reader thread ──▶ read-ahead ring ──(one drain task)──copy──▶ channelRead
 *          ◀─write()── writer task   ◀── batches (one written, the next one ready) ◀── write ◀── flush
 * </pre>
 *
 * <h2>Reading and backpressure</h2>
 * The reader thread (named {@value #READER_NAME} and the device while it runs, so a thread dump
 * says which device it serves) reads straight into the read-ahead, one array of
 * {@link DeviceChannel.Options#readAhead()} bytes used as a ring, asking the device for up to
 * {@link DeviceChannel.Options#readChunk()} bytes per read. The event loop copies what has been
 * read into a buffer from the channel's allocator (at most {@code readChunk} bytes per buffer) as
 * the pipeline reads it, so the allocator is only used on the loop. The first read after a pause
 * wakes the loop (one task for everything read until it runs); while bytes keep arriving the loop
 * looks for them by itself every {@link #POLL_NANOS} and the reader does not wake it, so a stream
 * costs a few thousand loop wake-ups a second rather than one per device read. When the pipeline
 * stops reading the ring fills, the reader blocks, and the device's and the operating system's
 * buffers fill until the peer is held back. A stalled channel holds its {@code readAhead} bytes
 * and no buffer. With auto-read off, each read delivers one buffer of what has been read ahead;
 * with auto-read on, everything read by then is delivered in one batch followed by
 * {@code channelReadComplete}.
 *
 * <h2>Writing</h2>
 * A device write may block for long (a slow baud rate, a peer holding flow control), so writes
 * never run on the event loop: {@link #write} hands batches of up to
 * {@link DeviceChannel.Options#writeBatch()} bytes (and at most half the low write-buffer water
 * mark, so that the queue behind them keeps the writer busy) to a writer task and returns. At most
 * {@value #MAX_BATCHES_IN_FLIGHT} batches are handed over at a time: while one is written the next
 * is ready. The batches' messages stay in the {@link ChannelOutboundBuffer} until the device has
 * taken them, so write promises and writability follow the device's real progress; the batches are
 * retained slices of those messages, not copies.
 *
 * <h2>Threading</h2>
 * {@link DeviceIo} methods run on the loop; the reader and the writer each hold the link
 * ({@link LinkHolds}) while they run, and hand their results to the loop as tasks.
 */
final class ThreadedDeviceIo implements DeviceIo {
    private static final Logger log = LoggerFactory.getLogger(ThreadedDeviceIo.class);
    /** The reader thread's name while it reads, followed by the device. */
    static final String READER_NAME = "mancom-device-reader";
    /** Written messages handed to the writer at once, at most: bounds the batch's bookkeeping. */
    private static final int MAX_BATCH_MESSAGES = 64;
    /** Batches handed to the writer and not yet reported written: one written, the next one ready. */
    static final int MAX_BATCHES_IN_FLIGHT = 2;
    /**
     * How often the loop looks for read bytes by itself while they keep arriving: the most a
     * byte waits on the reader in a stream. The first bytes after a pause wake the loop at once.
     */
    static final long POLL_NANOS = 200_000;

    private final DeviceChannel channel;
    private final DeviceLink link;
    private final Executor ioExecutor;
    private final DeviceChannel.Options options;
    private final LinkHolds holds;

    // Between the reader thread and the loop: the read-ahead ring. The reader fills it from
    // `produced` on, the loop copies out from `consumed` on; both count bytes since the channel
    // was opened, `produced - consumed` are waiting.
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

    // Between the loop and the writer task: batches to write, in order.
    private final ConcurrentLinkedQueue<Batch> batches = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean writerRunning = new AtomicBoolean();

    // Loop-only.
    private boolean readRequested;
    private boolean delivering;
    private boolean deliverScheduled;
    private int batchesInFlight;
    private long handedOver; // bytes at the head of the outbound buffer that are in those batches
    private boolean removing;

    ThreadedDeviceIo(DeviceChannel channel, DeviceLink link, Executor ioExecutor, DeviceChannel.Options options,
                     LinkHolds holds) {
        this.channel = channel;
        this.link = link;
        this.ioExecutor = ioExecutor;
        this.options = options;
        this.holds = holds;
        this.ring = new byte[options.readAhead()];
    }

    @Override
    public void register(ChannelPromise promise) {
        if (readerStarted.compareAndSet(false, true)) {
            link.onFailure(channel::linkFailed);
            holds.acquire();
            try {
                ioExecutor.execute(this::readLoop);
            } catch (RejectedExecutionException e) {
                holds.release();
                promise.setFailure(new ManComException(Reason.CLOSED,
                        channel.remoteAddress() + ": cannot start the device reader (the runtime is shutting down)", e));
                return;
            }
        }
        promise.setSuccess();
    }

    @Override
    public void stop() {
        closing = true;
        // Wake a reader that waits for space; it sees `closing` and leaves. What it read ahead
        // stays in its plain array: nothing to release.
        synchronized (space) {
            space.notifyAll();
        }
    }

    @Override
    public void beginRead() {
        readRequested = true;
        // Delivered from a task of its own, never inside read(): a handler that calls read() must
        // not find itself called back before read() returns (NIO channels behave the same way).
        if (!delivering && !deliverScheduled && produced != consumed) {
            deliverScheduled = true;
            channel.eventLoop().execute(() -> {
                deliverScheduled = false;
                deliver();
            });
        }
    }

    @Override
    public void clearReadRequest() {
        readRequested = false;
    }

    @Override
    public ByteBuf filterOutbound(ByteBuf msg) {
        return msg; // the link copies what it needs from heap and direct buffers alike
    }

    /** Bytes read from the device and not yet delivered to the pipeline. */
    int bytesInFlight() {
        return (int) (produced - consumed);
    }

    /** Whether the reader waits for the loop to make room in the full read-ahead; for tests. */
    boolean readerWaiting() {
        return readerWaiting;
    }

    /** Batches handed to the writer and not yet reported written; loop-only, for tests. */
    int batchesInFlight() {
        return batchesInFlight;
    }

    // ---- reader thread ----

    private void readLoop() {
        Thread self = Thread.currentThread();
        String poolName = self.getName();
        self.setName(READER_NAME + " " + channel.remoteAddress());
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
                            channel.remoteAddress() + ": the device reached end of stream (it was closed or removed)");
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
                        channel.eventLoop().execute(drainTask);
                    } catch (RejectedExecutionException e) {
                        break; // the loop is gone: the runtime is shutting down
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = new ManComException(Reason.CLOSED, channel.remoteAddress() + ": device reader interrupted", e);
        } catch (Throwable t) {
            failure = t;
        } finally {
            self.setName(poolName);
        }
        if (!closing) {
            if (failure != null) {
                Throwable cause = failure;
                try {
                    channel.eventLoop().execute(() -> channel.failed(cause));
                } catch (RejectedExecutionException e) {
                    log.debug("{}: device failed while the runtime shut down", channel.remoteAddress(), cause);
                }
            }
            // Nobody reads any more: release the device now rather than after the loop got round
            // to closing the channel (or never, if the loop is gone).
            holds.closeLink();
        }
        holds.release();
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

    /** Wakes a reader that waits for space; called after `consumed` moved. */
    private void wakeReader() {
        // `consumed` is written before this volatile read, and the reader sets `readerWaiting`
        // before it reads it: one of the two sees the other's write.
        if (readerWaiting) {
            synchronized (space) {
                space.notifyAll();
            }
        }
    }

    // ---- delivering, on the loop ----

    private void drainArrived() {
        // Cleared before `produced` is read: bytes published after that read schedule a new drain.
        drainScheduled.set(false);
        deliver();
        if (!loopPolling && channel.isOpen()) {
            // More is likely to follow: look again soon instead of being woken for every read.
            loopPolling = true;
            polledUpTo = produced;
            schedulePoll();
        }
    }

    private void schedulePoll() {
        try {
            channel.eventLoop().schedule(pollTask, POLL_NANOS, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            loopPolling = false; // the loop is shutting down
        }
    }

    private void poll() {
        if (!channel.isOpen()) {
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
            ChannelConfig config = channel.config();
            // Only what has been read by now: a reader that keeps up with the loop must not keep it
            // here forever. What arrives later comes with a drain task of its own.
            long end = produced;
            while (channel.isOpen() && readRequested && consumed != end) {
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
                    channel.pipeline().fireChannelRead(buf);
                } while (channel.isOpen() && consumed != end && config.isAutoRead());
                // With auto-read on, the pipeline's head calls read() from here, which sets
                // readRequested again and this loop goes on with what is left.
                channel.pipeline().fireChannelReadComplete();
            }
        } finally {
            delivering = false;
        }
    }

    // ---- writing ----

    @Override
    public void write(ChannelOutboundBuffer in) throws Exception {
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
            int limit = Math.max(1024, Math.min(options.writeBatch(), channel.config().getWriteBufferLowWaterMark() / 2));
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
                throw new ManComException(Reason.CLOSED, channel.remoteAddress() + ": cannot write (the runtime is shutting down)");
            }
        }
    }

    /** Starts the writer task unless it runs; on the loop. False if the runtime is shutting down. */
    private boolean startWriter() {
        if (!writerRunning.compareAndSet(false, true)) {
            return true;
        }
        holds.acquire();
        try {
            ioExecutor.execute(this::writeLoop);
            return true;
        } catch (RejectedExecutionException e) {
            writerRunning.set(false);
            holds.release();
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
        EventLoop loop = channel.eventLoop();
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
                loop.execute(() -> writeDone(size, w, f));
            } catch (RejectedExecutionException e) {
                log.debug("{}: write finished while the runtime shut down", channel.remoteAddress(), f);
            }
        }
        holds.release();
    }

    private void writeDone(long size, long written, Throwable failure) {
        batchesInFlight--;
        ChannelOutboundBuffer in = channel.unsafe().outboundBuffer();
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
            channel.failed(failure);
            return;
        }
        channel.flushMore();
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
}
