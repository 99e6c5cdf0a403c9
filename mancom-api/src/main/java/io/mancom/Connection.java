package io.mancom;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

/**
 * One open link of a service: a TCP connection, an open serial line, an open USB device, or one
 * stream of a mux. The callback API hands Connections to {@link AcceptCallback}s and
 * {@link DataReceiver}s.
 *
 * <h2>Lifecycle</h2>
 * A Connection is open when it is handed out. It closes when either side closes it or the link
 * fails; then the service's {@link DataReceiver#onClose} runs exactly once with the cause
 * ({@code null} for a clean close) and {@link #closeFuture()} completes.
 *
 * <h2>Threading</h2>
 * All methods are thread-safe. Callbacks for one connection run one at a time, in order, on the
 * connection's event-loop thread (or on the executor named at registration).
 *
 * <h2>Writing and buffer ownership</h2>
 * {@link #write(ByteBuffer)} copies the bytes it is given before it returns: the caller keeps its
 * buffer and may reuse it at once. Writes made by one thread go out in the order they were made.
 * Writes made by different threads have no order between them, even when one thread tells the
 * other it has written: a write on the connection's event loop (in a callback or a writability
 * listener) goes out at once, while one from another thread waits for the loop. Write from one
 * thread, or make every write from callbacks.
 *
 * <h2>Backpressure</h2>
 * Writes are queued per connection. When the queue passes its high-water mark the connection
 * becomes unwritable ({@link #isWritable()} false, the {@link WritabilityListener} is told) and the
 * runtime stops reading from this connection until the queue drains below the low-water mark, so
 * an echo-like service never buffers without bound for a peer that does not read. A write that
 * would take the queue past its hard limit ({@code max-pending-writes}) fails its future with a
 * {@link ManComException} of reason {@link ManComException.Reason#WRITE_QUEUE_FULL}; nothing is
 * dropped silently.
 *
 * <h2>Errors</h2>
 * A write on a closed connection fails its future with reason {@link ManComException.Reason#CLOSED}.
 * A failing link closes the connection; the cause reaches {@code onClose}.
 */
public interface Connection extends AutoCloseable {

    /** A number unique among this runtime's connections, for logs and handles. */
    long id();

    /** The name of the service this connection belongs to. */
    String service();

    /** This side of the link. */
    EndPoint local();

    /** The other side of the link. */
    EndPoint remote();

    /**
     * Queues the buffer's remaining bytes for sending. The buffer's position is not changed.
     *
     * @return completes when the bytes are handed to the operating system, or fails with the cause
     */
    CompletionStage<Void> write(ByteBuffer data);

    /** Queues all of {@code data}; see {@link #write(ByteBuffer)}. */
    default CompletionStage<Void> write(byte[] data) {
        return write(ByteBuffer.wrap(data));
    }

    /** Queues {@code len} bytes of {@code data} from {@code off}; see {@link #write(ByteBuffer)}. */
    default CompletionStage<Void> write(byte[] data, int off, int len) {
        return write(ByteBuffer.wrap(data, off, len));
    }

    /** Whether the write queue is below its high-water mark. */
    boolean isWritable();

    /**
     * Sets the listener told when {@link #isWritable()} changes, replacing any earlier one;
     * {@code null} removes it. It runs on the connection's event-loop thread and must not block.
     */
    void setWritabilityListener(WritabilityListener listener);

    /** Stops delivering data until {@link #resumeReading()}; the peer is slowed by the transport. */
    void pauseReading();

    /** Delivers data again after {@link #pauseReading()}. */
    void resumeReading();

    /** Whether the connection is still open. */
    boolean isOpen();

    /**
     * Completes normally after a clean close, exceptionally with the cause after a failure. Runs
     * its dependents after {@code onClose}.
     */
    CompletionStage<Void> closeFuture();

    /** Attaches an application object to this connection (replacing any earlier one). */
    void attach(Object attachment);

    /** The object given to {@link #attach(Object)}, or {@code null}. */
    Object attachment();

    /**
     * Finishes this side's writes, keeping the connection open for reading: what is queued is sent,
     * then the peer sees end of input (a TCP FIN; on a mux stream, CloseRead). Further writes fail
     * with reason CLOSED. The peer's {@link DataReceiver#onInputShutdown} runs.
     *
     * @return completes once the shutdown is sent; fails with reason IO on a link that has no
     *         half-close (a serial line or USB device)
     */
    CompletionStage<Void> shutdownOutput();

    /**
     * The line control of this connection's serial line: DTR, RTS, the modem lines and their
     * changes, a break, baud rate and framing; see {@link SerialLine}. The same object each time.
     *
     * @throws ManComException reason IO if this connection is not a serial line (a TCP
     *         connection, a USB device, or a stream of a mux, even one over a serial line: the line
     *         is shared by every stream); reason CLOSED if the connection is closed
     */
    default SerialLine serialLine() throws ManComException {
        throw new ManComException(ManComException.Reason.IO, this + " is not a serial line: line control (DTR, RTS, "
                + "modem lines, break, baud) exists only on serial:// connections");
    }

    /** Sends what is queued, then closes. Idempotent; never throws. */
    @Override
    void close();
}
