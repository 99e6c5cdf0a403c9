package io.mancom.core.internal;

import io.mancom.BlockingConnection;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The blocking API over a callback connection: an {@link Inbound} that keeps arriving data in a
 * bounded buffer for {@link #read}, and a {@link #write} that waits for room and hands its bytes
 * to a {@link BlockingWriter}. The C API's blocking calls use it too (mancom-native).
 *
 * <p>Wake-ups are what a blocking exchange pays for beyond the callback API, so there are no
 * others: the event loop signals a reader or writer only when one waits, once per read batch, and
 * never waits for a reader's copy (taken chunks are copied outside the lock).
 *
 * <p>The buffer holds at most {@code readBuffer} bytes plus whatever was in flight when reading
 * paused (one read's worth): at the limit the connection's {@link ReadGate} closes, and the first
 * read that drains it below half opens it again.
 *
 * <p>Buffer ownership: a buffer the link read is kept as it is, not copied, when its bytes fill at
 * least half of it and it is not a view of a larger one; {@link #read} copies from it straight
 * into the caller's array and releases it once drained. Anything else (a small read in a large
 * buffer, a slice of a mux frame) is copied to the heap, so pooled memory held here stays within
 * twice the read buffer. When the connection closes, what is left unread is moved to the heap:
 * an application that never reads it, or never closes, pins no pooled memory.
 */
final class BlockingAdapter implements BlockingConnection, Inbound {
    /** Reads through the stream view wait this long, which is to say without a limit. */
    static final Duration FOREVER = Duration.ofDays(365);

    /** At most this many chunks are taken off the buffer for one read. */
    private static final int MAX_TAKEN = 64;

    private final int readBuffer;
    private final Consumer<BlockingAdapter> onOpen;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final Condition writable = lock.newCondition();
    // The link's own buffers when dense, heap copies otherwise (see the class comment): copying
    // every read to the heap cost an allocation and a copy per read, a fifth of the throughput.
    private final ArrayDeque<ByteBuf> chunks = new ArrayDeque<>();
    private long buffered;
    // Readers and writers waiting: the event loop signals (takes the lock, wakes a thread) only
    // when there is one. Changed under the lock, read without it by the event loop. A reader
    // counts itself after finding the buffer empty under the lock that data() takes, so
    // readComplete (after data) sees it; a writer counts itself before it checks writability,
    // so either it sees the change or the loop sees it waiting, and the loop's signal, under the
    // lock, comes after the writer's await began.
    private volatile int readersWaiting;
    private volatile int writersWaiting;
    /** Data was delivered since the last {@link #readComplete}. Event loop only. */
    private boolean unannounced;
    private volatile boolean eof;
    private Throwable failure;
    private boolean paused;
    private volatile boolean closedByApplication;
    /** A shutdownOutput waiting for its bytes to go out; close() ends the wait. */
    private volatile CompletableFuture<Void> pendingShutdown;
    private boolean inputEnded;
    private volatile ChannelConnection connection;
    private volatile BlockingWriter writer;
    private InputStream in;
    private OutputStream out;
    /** Pollers watching this connection; fired after every change that can make it ready. */
    final ReadinessSignal readiness = new ReadinessSignal();

    /** Readiness bits of {@link #readiness()}. */
    static final int READABLE = 1;
    static final int WRITABLE = 1 << 1;
    static final int CLOSED = 1 << 2;
    static final int FAILED = 1 << 3;

    /**
     * @param onOpen called on the event loop once the connection is open (queue it for accept, or
     *               complete a connect)
     */
    BlockingAdapter(int readBuffer, Consumer<BlockingAdapter> onOpen) {
        this.readBuffer = readBuffer;
        this.onOpen = onOpen;
    }

    // ---- Inbound: event loop side ----

    @Override
    public void opened(ChannelConnection c) {
        connection = c;
        writer = new BlockingWriter(c.channel(), c, () -> {
            if (writersWaiting > 0) {
                signal(writable); // the queued bytes moved to the channel: its room decides now
            }
        });
        c.setWritabilityListener((conn, isWritable) -> {
            if (isWritable && writersWaiting > 0) {
                signal(writable);
            }
            readiness.fire();
        });
        onOpen.accept(this);
    }

    @Override
    public void data(ChannelConnection c, ByteBuf buf) {
        int n = buf.readableBytes();
        ByteBuf keep = buf;
        // A slice (a mux frame's view of its link's buffer) cannot grow: its capacity is its
        // length, and it may hold on to a much larger buffer, so it is copied. (Not unwrap(): the
        // leak detector's wrapper would make every buffer look like a view.)
        if (buf.maxCapacity() <= buf.capacity() || (long) n * 2 < buf.capacity()) {
            keep = heapCopy(buf);
        }
        lock.lock();
        try {
            if (closedByApplication) {
                keep.release();
                return;
            }
            chunks.add(keep);
            buffered += n;
            if (buffered >= readBuffer && !paused) {
                paused = true;
                c.gate.close(ReadGate.BLOCKING_FULL);
            }
            unannounced = true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Wakes a waiting reader (and the pollers) once per read batch, not once per {@code data}: a
     * reader woken for the first piece of a batch would take the lock from the loop while it still
     * delivers the rest, and wake again for each piece.
     */
    @Override
    public void readComplete(ChannelConnection c) {
        if (!unannounced) {
            return;
        }
        unannounced = false;
        if (readersWaiting > 0) {
            signal(readable);
        }
        readiness.fire();
    }

    /** An unpooled heap copy of {@code buf}'s readable bytes; {@code buf} is released. */
    private static ByteBuf heapCopy(ByteBuf buf) {
        try {
            return Unpooled.wrappedBuffer(ByteBufUtil.getBytes(buf));
        } finally {
            buf.release();
        }
    }

    @Override
    public void inputShutdown(ChannelConnection c) {
        lock.lock();
        try {
            inputEnded = true;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
        readiness.fire();
    }

    @Override
    public void closed(ChannelConnection c, Throwable cause) {
        lock.lock();
        try {
            eof = true;
            failure = cause;
            // The link is gone: unread bytes move to the heap, so no pooled memory outlives it.
            for (int i = chunks.size(); i > 0; i--) {
                ByteBuf b = chunks.poll();
                chunks.add(b instanceof UnpooledHeapByteBuf ? b : heapCopy(b));
            }
            readable.signalAll();
            writable.signalAll();
        } finally {
            lock.unlock();
        }
        readiness.fire();
        if (cause == null) {
            c.closeFutureInternal().complete(null);
        } else {
            c.closeFutureInternal().completeExceptionally(cause);
        }
    }

    private void signal(Condition condition) {
        lock.lock();
        try {
            condition.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---- BlockingConnection: application side ----

    ChannelConnection connection() {
        return connection;
    }

    @Override
    public long id() {
        return connection.id();
    }

    @Override
    public String service() {
        return connection.service();
    }

    @Override
    public EndPoint local() {
        return connection.local();
    }

    @Override
    public EndPoint remote() {
        return connection.remote();
    }

    @Override
    public int read(byte[] dst, int off, int len, Duration timeout) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, dst.length);
        return read(ByteBuffer.wrap(dst, off, len), timeout);
    }

    /**
     * Takes chunks off the buffer under the lock and copies them outside it: the event loop,
     * delivering the next read meanwhile, never waits for a copy (a loop that parks on this lock
     * stalls every connection it serves). Chunks not used up go back to the head of the buffer.
     */
    @Override
    public int read(ByteBuffer dst, Duration timeout) throws IOException {
        if (!dst.hasRemaining()) {
            return 0;
        }
        boolean forever = timeout.compareTo(FOREVER) >= 0;
        long deadline = forever ? 0 : System.nanoTime() + timeout.toNanos();
        ByteBuf[] taken;
        int count = 0;
        lock.lock();
        try {
            try {
                while (chunks.isEmpty()) {
                    if (closedByApplication || (inputEnded && !eof)) {
                        return -1;
                    }
                    if (eof) {
                        if (failure != null) {
                            throw rethrow(failure);
                        }
                        return -1;
                    }
                    long left = forever ? Long.MAX_VALUE : deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new ManComException(ManComException.Reason.TIMEOUT,
                                "no data on connection #" + id() + " (service '" + service() + "') within " + timeout);
                    }
                    // Counted under the lock that data() takes: readComplete, after data(), sees it.
                    readersWaiting++;
                    try {
                        readable.awaitNanos(left);
                    } finally {
                        readersWaiting--;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("read interrupted");
            }
            taken = new ByteBuf[Math.min(chunks.size(), MAX_TAKEN)];
            long available = 0;
            while (count < taken.length && available < dst.remaining()) {
                ByteBuf b = chunks.poll();
                taken[count++] = b;
                available += b.readableBytes();
            }
        } finally {
            lock.unlock();
        }
        int n = 0;
        int limit = dst.limit();
        try {
            for (int i = 0; i < count && dst.hasRemaining(); i++) {
                ByteBuf head = taken[i];
                int take = Math.min(dst.remaining(), head.readableBytes());
                dst.limit(dst.position() + take);
                head.readBytes(dst);
                dst.limit(limit);
                n += take;
                if (!head.isReadable()) {
                    head.release();
                    taken[i] = null;
                }
            }
        } finally {
            dst.limit(limit);
            giveBack(taken, count, n);
        }
        return n;
    }

    /** The chunks of a read that still hold bytes go back to the head; {@code n} bytes were read. */
    private void giveBack(ByteBuf[] taken, int count, int n) {
        boolean resume = false;
        lock.lock();
        try {
            for (int i = count - 1; i >= 0; i--) {
                ByteBuf b = taken[i];
                if (b == null) {
                    continue;
                }
                if (closedByApplication) {
                    b.release(); // close() released the rest of the buffer meanwhile
                } else {
                    // closed() moved the rest to the heap meanwhile: these follow
                    chunks.addFirst(eof && !(b instanceof UnpooledHeapByteBuf) ? heapCopy(b) : b);
                }
            }
            if (!closedByApplication) { // close() emptied the buffer and its count
                buffered -= n;
            }
            if (paused && buffered <= readBuffer / 2) {
                paused = false;
                resume = true;
            }
        } finally {
            lock.unlock();
        }
        if (resume) {
            ChannelConnection c = connection;
            c.onLoop(() -> c.gate.open(ReadGate.BLOCKING_FULL));
        }
    }

    private static IOException rethrow(Throwable t) {
        if (t instanceof IOException io) {
            return io;
        }
        return new ManComException(ManComException.Reason.LINK_FAILED, t.toString(), t);
    }

    @Override
    public void write(byte[] src, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, src.length);
        write(ByteBuffer.wrap(src, off, len));
    }

    /**
     * Waits for room, then hands the bytes to the {@link BlockingWriter} in pieces of at most
     * {@link BlockingWriter#CHUNK}: writes made while the loop has not taken the previous ones
     * yet go out with them, in one task and one flush.
     */
    @Override
    public void write(ByteBuffer src) throws IOException {
        ChannelConnection c = connection;
        BlockingWriter w = writer;
        while (src.hasRemaining()) {
            awaitRoom(c, w);
            // A failure that is already known (closed, output shut down) is reported now; a later
            // one closes the connection with its cause and surfaces on the next write or read.
            ManComException refused = c.writeRefusal();
            if (refused != null) {
                throw refused;
            }
            ByteBuffer piece = src.duplicate();
            int take = Math.min(BlockingWriter.CHUNK, src.remaining());
            piece.limit(piece.position() + take);
            if (!w.write(piece)) {
                throw c.closedException();
            }
            src.position(src.position() + take);
        }
    }

    private void awaitRoom(ChannelConnection c, BlockingWriter w) throws IOException {
        if (!eof && c.isWritable() && w.hasRoom()) {
            return; // the common case takes no lock
        }
        lock.lock();
        writersWaiting++;
        try {
            while (!(c.isWritable() && w.hasRoom())) {
                if (c.isOutputShut()) {
                    // Never writable again (Netty drops the outbound buffer), and the reason even if
                    // the connection has closed since: the write fails, saying why.
                    return;
                }
                if (eof || !c.isOpen()) {
                    throw failure instanceof IOException io ? io : c.closedException();
                }
                try {
                    // The writability listener and each drain of the writer signal; the bounded
                    // wait guards against a change that raced with this check.
                    writable.await(100, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("write interrupted");
                }
            }
            if (eof && failure != null) {
                throw rethrow(failure);
            }
        } finally {
            writersWaiting--;
            lock.unlock();
        }
    }

    @Override
    public synchronized InputStream inputStream() {
        if (in == null) {
            in = BlockingStreams.input(this);
        }
        return in;
    }

    @Override
    public synchronized OutputStream outputStream() {
        if (out == null) {
            out = BlockingStreams.output(this);
        }
        return out;
    }

    /** Bytes buffered for reading now (the input stream's {@code available}). */
    int available() {
        lock.lock();
        try {
            return (int) Math.min(Integer.MAX_VALUE, Math.max(0, buffered));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void shutdownOutput() throws IOException {
        CompletableFuture<Void> done = connection.shutdownOutput().toCompletableFuture();
        readiness.fire(); // a write no longer waits: it fails at once
        // The wait is for what is queued to go out, which a peer that does not read can hold up
        // for ever; close() from another thread ends it (as it ends a blocked read).
        pendingShutdown = done;
        if (closedByApplication) {
            done.completeExceptionally(closedWhileShuttingDown());
        }
        try {
            done.get();
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("shutdownOutput interrupted");
        } finally {
            pendingShutdown = null;
        }
    }

    private ManComException closedWhileShuttingDown() {
        return new ManComException(ManComException.Reason.CLOSED, "connection #" + id() + " (service '" + service()
                + "') was closed while shutdownOutput waited for its queued bytes to go out");
    }

    @Override
    public io.mancom.SerialLine serialLine() throws ManComException {
        return connection.serialLine();
    }

    @Override
    public boolean isOpen() {
        ChannelConnection c = connection;
        return c != null && c.isOpen();
    }

    @Override
    public void close() {
        lock.lock();
        try {
            // What is still buffered is not wanted any more; a blocked reader wakes to end of stream.
            closedByApplication = true;
            for (ByteBuf b; (b = chunks.poll()) != null; ) {
                b.release();
            }
            buffered = 0;
            readable.signalAll();
            writable.signalAll();
        } finally {
            lock.unlock();
        }
        CompletableFuture<Void> shutdown = pendingShutdown;
        if (shutdown != null) {
            shutdown.completeExceptionally(closedWhileShuttingDown());
        }
        connection.close();
        readiness.fire();
    }

    /** The cause the link closed with; null while open or after a clean close. Any thread. */
    Throwable failure() {
        lock.lock();
        try {
            return eof ? failure : null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * What would not wait now: {@link #READABLE} (a read returns or throws at once),
     * {@link #WRITABLE} (a write does not wait for room), {@link #CLOSED} (the link or the
     * application closed it), {@link #FAILED} (closed with a cause). Any thread.
     */
    int readiness() {
        int r = 0;
        boolean shut;
        lock.lock();
        try {
            if (!chunks.isEmpty() || eof || inputEnded || closedByApplication) {
                r |= READABLE;
            }
            if (eof || closedByApplication) {
                r |= CLOSED | WRITABLE;
            }
            if (eof && failure != null) {
                r |= FAILED;
            }
        } finally {
            lock.unlock();
        }
        ChannelConnection c = connection;
        BlockingWriter w = writer;
        if (c != null && (c.isWritable() && w.hasRoom() || c.isOutputShut() || !c.isOpen())) {
            r |= WRITABLE;
        }
        return r;
    }

    @Override
    public String toString() {
        return "Blocking" + connection;
    }
}
