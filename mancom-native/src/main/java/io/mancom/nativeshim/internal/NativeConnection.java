package io.mancom.nativeshim.internal;

import com.sun.jna.Pointer;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.nativeshim.ErrorCode;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection as C sees it: behind one handle, in one of two modes.
 *
 * <ul>
 *   <li>{@link Mode#CALLBACK}: data goes to the C program's callbacks; this object only carries the
 *       handle. The handle is released when the connection's close future completes (after the
 *       close callback).</li>
 *   <li>{@link Mode#BLOCKING}: this object is the connection's {@link DataReceiver} and keeps
 *       arriving data for {@code mancom_read}/{@code mancom_poll} in a bounded buffer; at
 *       {@link #READ_BUFFER} bytes it pauses reading (the peer is slowed), and resumes when a read
 *       drains it below half. The handle is released by {@code mancom_close}.</li>
 * </ul>
 *
 * <p>Thread-safe: the event loop feeds it, any number of C threads read, write and poll.
 */
final class NativeConnection implements DataReceiver {
    enum Mode { CALLBACK, BLOCKING }

    static final int READ_BUFFER = 256 * 1024;
    private static final int WRITE_CHUNK = 64 * 1024;

    final Mode mode;
    private volatile Connection connection;
    volatile long handle;
    // Callback mode: the buffer lent to the data callback running now, and its address, so that
    // writing it straight back (an echo) passes the runtime its own buffer: no copy, as in Java.
    // Only the connection's callback thread sets them, around the call.
    private volatile ByteBuffer lent;
    private volatile long lentAddress;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final Condition writable = lock.newCondition();
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private int headOffset;
    private long buffered;
    private boolean eof;
    private boolean inputEnded; // the peer half-closed: reads end, writes go on
    private Throwable failure;
    private boolean paused;
    private volatile boolean closedByApplication;
    // Set by a successful mancom_shutdown_output: the connection never turns writable again (Netty
    // drops its outbound buffer), so writes fail at once instead of waiting for it.
    private volatile boolean outputShut;

    NativeConnection(Mode mode) {
        this.mode = mode;
    }

    /** Ties this object to its connection (once); blocking connections learn writability. */
    synchronized void bind(Connection c) {
        if (connection != null) {
            return;
        }
        connection = c;
        c.attach(this);
        if (mode == Mode.BLOCKING) {
            c.setWritabilityListener((conn, isWritable) -> {
                signal(writable);
                PollSignal.signal();
            });
        }
    }

    private Long boxed;

    /** The handle as the Long a JNA call takes, boxed once. */
    Long handleBox() {
        Long b = boxed;
        if (b == null || b != handle) {
            b = handle;
            boxed = b;
        }
        return b;
    }

    /** Marks {@code data}, at {@code address}, as lent to the data callback that runs next. */
    void lend(ByteBuffer data, long address) {
        lentAddress = address;
        lent = data;
    }

    void endLoan() {
        lent = null;
    }

    Connection connection() {
        return connection;
    }

    String describe() {
        Connection c = connection;
        return c == null ? "connection (not open)" : "connection #" + c.id() + " of service '" + c.service() + "'";
    }

    // ---- event loop side (blocking mode) ----

    @Override
    public void onData(Connection c, ByteBuffer data) {
        bind(c);
        byte[] copy = new byte[data.remaining()];
        data.duplicate().get(copy);
        boolean pause = false;
        lock.lock();
        try {
            if (closedByApplication) {
                return;
            }
            chunks.add(copy);
            buffered += copy.length;
            if (buffered >= READ_BUFFER && !paused) {
                paused = true;
                pause = true;
            }
            readable.signalAll();
        } finally {
            lock.unlock();
        }
        if (pause) {
            c.pauseReading();
        }
        PollSignal.signal();
    }

    /**
     * The peer half-closed: reads return 0 once the buffer is drained, and the connection stays
     * open for writing until the program closes it (it owns the handle). Not closing here, as the
     * default does, lets a C server answer a request whose end the client marked with its
     * half-close.
     */
    @Override
    public void onInputShutdown(Connection c) {
        bind(c);
        lock.lock();
        try {
            inputEnded = true;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
        PollSignal.signal();
    }

    @Override
    public void onClose(Connection c, Throwable cause) {
        bind(c);
        lock.lock();
        try {
            eof = true;
            failure = cause;
            readable.signalAll();
            writable.signalAll();
        } finally {
            lock.unlock();
        }
        PollSignal.signal();
    }

    private void signal(Condition condition) {
        lock.lock();
        try {
            condition.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---- C side ----

    /** {@code mancom_read}: bytes read, 0 at end of stream, or a negative code. */
    long read(Pointer dst, long len, int timeoutMs) throws InterruptedException {
        if (mode != Mode.BLOCKING) {
            return Errors.fail(ErrorCode.EWRONGMODE, "mancom_read: " + describe()
                    + " is served by callbacks; its data goes to the data callback");
        }
        if (len == 0) {
            return 0;
        }
        int n = 0;
        boolean resume = false;
        lock.lock();
        try {
            long nanos = timeoutMs < 0 ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (chunks.isEmpty()) {
                if (closedByApplication) {
                    return Errors.fail(ErrorCode.ECLOSED, "mancom_read: " + describe() + " was closed with mancom_close");
                }
                if (eof) {
                    return failure == null ? 0 : Errors.fail(failure);
                }
                if (inputEnded) {
                    return 0;
                }
                if (nanos <= 0) {
                    return Errors.fail(ErrorCode.ETIMEOUT, "mancom_read: no data within " + timeoutMs + " ms on "
                            + describe() + " (nothing was lost; read again)");
                }
                nanos = nanos == Long.MAX_VALUE ? awaitForever() : readable.awaitNanos(nanos);
            }
            while (n < len && !chunks.isEmpty()) {
                byte[] head = chunks.peek();
                int take = (int) Math.min(len - n, head.length - headOffset);
                dst.write(n, head, headOffset, take);
                n += take;
                headOffset += take;
                if (headOffset == head.length) {
                    chunks.poll();
                    headOffset = 0;
                }
            }
            buffered -= n;
            if (paused && buffered < READ_BUFFER / 2) {
                paused = false;
                resume = true;
            }
        } finally {
            lock.unlock();
        }
        if (resume) {
            connection.resumeReading();
        }
        return n;
    }

    private long awaitForever() throws InterruptedException {
        readable.await();
        return Long.MAX_VALUE;
    }

    /** {@code mancom_write}: {@code len} or a negative code. */
    long write(Pointer src, long len) throws InterruptedException {
        Connection c = connection;
        if (closedByApplication) {
            return Errors.fail(ErrorCode.ECLOSED, "mancom_write: " + describe() + " was closed with mancom_close");
        }
        if (outputShut) { // first: it is the reason, even if the connection has closed since
            return outputShutError();
        }
        if (c == null || !c.isOpen()) {
            return closedError("mancom_write");
        }
        if (len == 0) {
            return 0;
        }
        ByteBuffer loan = lent;
        if (loan != null && Pointer.nativeValue(src) == lentAddress && len == loan.remaining()) {
            return check(c.write(loan), len);
        }
        ByteBuffer all = src.getByteBuffer(0, len);
        if (mode == Mode.CALLBACK) {
            // Never waits: callbacks run on the event loop. The write queue's hard limit bounds memory.
            return check(c.write(all), len);
        }
        for (int off = 0; off < len; off += WRITE_CHUNK) {
            lock.lock();
            try {
                while (!c.isWritable() && c.isOpen() && !closedByApplication && !outputShut) {
                    writable.await(100, TimeUnit.MILLISECONDS); // re-checks isOpen even if a signal is missed
                }
            } finally {
                lock.unlock();
            }
            if (outputShut && !closedByApplication) {
                return outputShutError(); // shut down by another thread while this one waited
            }
            if (closedByApplication || !c.isOpen()) {
                return closedError("mancom_write");
            }
            long r = check(c.write(all.slice(off, (int) Math.min(WRITE_CHUNK, len - off))), len);
            if (r < 0) {
                return r;
            }
        }
        return len;
    }

    private long outputShutError() {
        return Errors.fail(ErrorCode.ECLOSED, "mancom_write: " + describe()
                + " has shut down its output (mancom_shutdown_output): it can still read, not write");
    }

    private long closedError(String fn) {
        Throwable f;
        lock.lock();
        try {
            f = failure;
        } finally {
            lock.unlock();
        }
        if (f != null) {
            return Errors.fail(f);
        }
        return Errors.fail(ErrorCode.ECLOSED, fn + ": " + describe() + " is closed");
    }

    private static long check(CompletionStage<Void> written, long len) {
        CompletableFuture<Void> f = written.toCompletableFuture();
        if (f.isDone()) {
            try {
                f.getNow(null);
            } catch (CompletionException | java.util.concurrent.CancellationException e) {
                return Errors.fail(e);
            }
        }
        return len;
    }

    /**
     * {@code mancom_shutdown_output}: 0 or a negative code. A blocking connection waits until the
     * queued bytes and the shutdown are sent (as {@code BlockingConnection.shutdownOutput} does); a
     * callback connection returns at once, since its callers run on the event loop.
     */
    int shutdownOutput() throws InterruptedException {
        Connection c = connection;
        if (closedByApplication) {
            return Errors.fail(ErrorCode.ECLOSED, "mancom_shutdown_output: " + describe() + " was closed with mancom_close");
        }
        if (c == null || !c.isOpen()) {
            return (int) closedError("mancom_shutdown_output");
        }
        CompletableFuture<Void> done = c.shutdownOutput().toCompletableFuture();
        if (!done.isCompletedExceptionally()) {
            outputShut = true; // not on a link without half-close: there writes go on as before
        }
        try {
            if (mode == Mode.CALLBACK) {
                if (done.isDone()) {
                    done.get(); // reports a failure known now; never waits on the event loop
                }
                return 0;
            }
            // Waits for the queued bytes to go out, but not past the program's own mancom_close.
            while (true) {
                try {
                    done.get(100, TimeUnit.MILLISECONDS);
                    return 0;
                } catch (TimeoutException e) {
                    if (closedByApplication) {
                        return Errors.fail(ErrorCode.ECLOSED, "mancom_shutdown_output: " + describe()
                                + " was closed with mancom_close");
                    }
                }
            }
        } catch (ExecutionException e) {
            return Errors.fail(e.getCause());
        }
    }

    /** {@code mancom_close}: marks it closed for C, then closes the link (sending what is queued). */
    void close() {
        closedByApplication = true;
        lock.lock();
        try {
            chunks.clear();
            buffered = 0;
            readable.signalAll();
            writable.signalAll();
        } finally {
            lock.unlock();
        }
        Connection c = connection;
        if (c != null) {
            c.close();
        }
        PollSignal.signal();
    }

    /** The {@code MANCOM_POLL...} bits this connection has now. */
    short readiness(short events) {
        int r = 0;
        lock.lock();
        try {
            if (closedByApplication) {
                return Bridge.POLLNVAL;
            }
            if (!chunks.isEmpty() || eof || inputEnded) {
                r |= Bridge.POLLIN & events;
            }
            if (eof) {
                r |= Bridge.POLLHUP;
                if (failure != null) {
                    r |= Bridge.POLLERR;
                }
            }
        } finally {
            lock.unlock();
        }
        Connection c = connection;
        // After mancom_shutdown_output a write does not wait (it fails at once), as poll(2) says of a
        // shut socket, and that stays so when the peer closes afterwards: a server that answers a
        // half-closed request and closes at once used to take POLLOUT away before the client polled.
        if ((events & Bridge.POLLOUT) != 0 && c != null && (outputShut || (c.isOpen() && c.isWritable()))) {
            r |= Bridge.POLLOUT;
        }
        return (short) r;
    }
}
