package io.mancom.nativeshim.internal;

import com.sun.jna.Pointer;
import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.core.internal.BlockingHooks;
import io.mancom.nativeshim.ErrorCode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/**
 * One connection as C sees it: behind one handle, in one of two modes.
 *
 * <ul>
 *   <li>{@link Mode#CALLBACK}: data goes to the C program's callbacks; this object carries the
 *       handle and the runtime's {@link Connection}. The handle is released when the connection's
 *       close future completes (after the close callback).</li>
 *   <li>{@link Mode#BLOCKING}: a {@link BlockingConnection} of the runtime, the one Java's
 *       blocking API uses (bounded by {@code blocking.read-buffer}); this object turns its results
 *       and exceptions into what mancom.h promises (0 at end of stream, negative codes, messages
 *       naming the C function). The handle is released by {@code mancom_close}.</li>
 * </ul>
 *
 * <p>Thread-safe: event loops call the callback side, any number of C threads read, write and
 * poll (one reader and one writer at a time, as mancom.h says).
 */
final class NativeConnection {
    enum Mode { CALLBACK, BLOCKING }

    private static final Duration FOREVER = Duration.ofDays(365);

    final Mode mode;
    private volatile Connection connection;
    private final BlockingConnection blocking;
    volatile long handle;
    // Callback mode: the buffer lent to the data callback running now, and its address, so that
    // writing it straight back (an echo) passes the runtime its own buffer: no copy, as in Java.
    // Only the connection's callback thread sets them, around the call.
    private volatile ByteBuffer lent;
    private volatile long lentAddress;
    private volatile boolean closedByApplication;
    // Callback mode: set by a successful mancom_shutdown_output, so writes fail at once with the
    // reason. (A blocking connection's runtime side knows it: BlockingHooks.isOutputShut.)
    private volatile boolean outputShut;
    private Long boxed;

    /** A callback connection; {@link #bind} ties it to its runtime connection. */
    NativeConnection() {
        this.mode = Mode.CALLBACK;
        this.blocking = null;
    }

    /** A blocking connection from {@code mancom_accept} or {@code mancom_connect}. */
    NativeConnection(BlockingConnection blocking) {
        this.mode = Mode.BLOCKING;
        this.blocking = blocking;
    }

    /** Ties a callback connection to its runtime connection (once). */
    synchronized void bind(Connection c) {
        if (connection != null) {
            return;
        }
        connection = c;
        c.attach(this);
    }

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

    /** The runtime connection of a callback connection (null before it is bound). */
    Connection connection() {
        return connection;
    }

    /** The runtime's blocking connection of a blocking one (null in callback mode). */
    BlockingConnection blocking() {
        return blocking;
    }

    EndPoint local() {
        return blocking != null ? blocking.local() : connection.local();
    }

    EndPoint remote() {
        return blocking != null ? blocking.remote() : connection.remote();
    }

    String describe() {
        if (blocking != null) {
            return "connection #" + blocking.id() + " of service '" + blocking.service() + "'";
        }
        Connection c = connection;
        return c == null ? "connection (not open)" : "connection #" + c.id() + " of service '" + c.service() + "'";
    }

    /** Whether the output was shut down: a write then fails at once, and poll says it would not wait. */
    boolean isOutputShut() {
        return blocking != null ? BlockingHooks.isOutputShut(blocking) : outputShut;
    }

    // ---- C side ----

    /** {@code mancom_read}: bytes read, 0 at end of stream, or a negative code. */
    long read(Pointer dst, long len, int timeoutMs) {
        if (mode != Mode.BLOCKING) {
            return Errors.fail(ErrorCode.EWRONGMODE, "mancom_read: " + describe()
                    + " is served by callbacks; its data goes to the data callback");
        }
        if (closedByApplication) {
            return closedByProgram("mancom_read");
        }
        if (len == 0) {
            return 0;
        }
        int n;
        try {
            // Straight into the program's memory: the runtime copies from the link's buffers once.
            n = blocking.read(dst.getByteBuffer(0, Math.min(len, Integer.MAX_VALUE)),
                    timeoutMs < 0 ? FOREVER : Duration.ofMillis(timeoutMs));
        } catch (ManComException e) {
            if (closedByApplication) {
                return closedByProgram("mancom_read");
            }
            if (e.reason() == ManComException.Reason.TIMEOUT) {
                return Errors.fail(ErrorCode.ETIMEOUT, "mancom_read: no data within " + timeoutMs + " ms on "
                        + describe() + " (nothing was lost; read again)");
            }
            return Errors.fail(e);
        } catch (IOException e) {
            return Errors.fail(e);
        }
        if (n < 0) {
            // End of stream: the peer closed or half-closed, or another thread called mancom_close.
            return closedByApplication ? closedByProgram("mancom_read") : 0;
        }
        return n;
    }

    /** {@code mancom_write}: {@code len} or a negative code. */
    long write(Pointer src, long len) {
        if (closedByApplication) {
            return closedByProgram("mancom_write");
        }
        if (isOutputShut()) { // first: it is the reason, even if the connection has closed since
            return outputShutError();
        }
        if (!isOpen()) {
            return closedError("mancom_write");
        }
        if (len == 0) {
            return 0;
        }
        if (mode == Mode.CALLBACK) {
            Connection c = connection;
            ByteBuffer loan = lent;
            if (loan != null && Pointer.nativeValue(src) == lentAddress && len == loan.remaining()) {
                return check(c.write(loan), len);
            }
            // Never waits: callbacks run on the event loop. The write queue's hard limit bounds memory.
            return check(c.write(src.getByteBuffer(0, len)), len);
        }
        try {
            blocking.write(src.getByteBuffer(0, len)); // copies before it returns, as mancom.h promises
            return len;
        } catch (IOException e) {
            if (closedByApplication) {
                return closedByProgram("mancom_write");
            }
            if (isOutputShut()) {
                return outputShutError(); // shut down by another thread while this one waited
            }
            return Errors.fail(e);
        }
    }

    private boolean isOpen() {
        if (blocking != null) {
            return blocking.isOpen();
        }
        Connection c = connection;
        return c != null && c.isOpen();
    }

    private long outputShutError() {
        return Errors.fail(ErrorCode.ECLOSED, "mancom_write: " + describe()
                + " has shut down its output (mancom_shutdown_output): it can still read, not write");
    }

    private int closedByProgram(String fn) {
        return Errors.fail(ErrorCode.ECLOSED, fn + ": " + describe() + " was closed with mancom_close");
    }

    private long closedError(String fn) {
        Throwable f = blocking != null ? BlockingHooks.failure(blocking) : null;
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
     * queued bytes and the shutdown are sent (a {@code mancom_close} from another thread ends the
     * wait); a callback connection returns at once, since its callers run on the event loop.
     */
    int shutdownOutput() {
        if (closedByApplication) {
            return closedByProgram("mancom_shutdown_output");
        }
        if (!isOpen()) {
            return (int) closedError("mancom_shutdown_output");
        }
        if (mode == Mode.BLOCKING) {
            try {
                blocking.shutdownOutput();
                return 0;
            } catch (IOException e) {
                return closedByApplication ? closedByProgram("mancom_shutdown_output") : Errors.fail(e);
            }
        }
        CompletableFuture<Void> done = connection.shutdownOutput().toCompletableFuture();
        if (!done.isCompletedExceptionally()) {
            outputShut = true; // not on a link without half-close: there writes go on as before
        }
        if (done.isDone()) {
            try {
                done.get(); // reports a failure known now; never waits on the event loop
            } catch (ExecutionException e) {
                return Errors.fail(e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Errors.fail(e);
            }
        }
        return 0;
    }

    /** {@code mancom_close}: marks it closed for C, then closes the link (sending what is queued). */
    void close() {
        closedByApplication = true;
        if (blocking != null) {
            blocking.close(); // wakes this connection's blocked reader, writer and shutdown
            return;
        }
        Connection c = connection;
        if (c != null) {
            c.close();
        }
    }
}
