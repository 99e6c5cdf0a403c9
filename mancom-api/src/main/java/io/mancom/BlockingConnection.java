package io.mancom;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A connection for straight-line programs: {@code read} waits for data, {@code write} waits for
 * room. Returned by {@link ManCom#accept} and {@link ManCom#connect}.
 *
 * <h2>Buffering</h2>
 * Incoming data waits in a bounded buffer ({@code blocking.read-buffer}, default 256 KiB). When it
 * is full the runtime stops reading from the link, so a program that reads slowly slows its peer
 * and never grows memory. {@code write} copies the caller's bytes and returns once they are queued;
 * it waits while the link's write queue is above its high-water mark.
 *
 * <h2>Threading</h2>
 * One reader thread and one writer thread may use a BlockingConnection at the same time; reads
 * (and writes) from several threads at once must be serialised by the caller. {@link #close()} may
 * be called from any thread and wakes a blocked reader, which then sees end of stream.
 *
 * <h2>Errors</h2>
 * A read that times out throws {@link ManComException} with reason
 * {@link ManComException.Reason#TIMEOUT} and loses no data. After the link fails, reads return
 * the data that had already arrived and then throw the failure; writes throw it at once. When the
 * peer half-closes, {@code read} returns -1 while {@code write} still works; {@link #close()}
 * ends the connection.
 */
public interface BlockingConnection extends Closeable {

    /** A number unique among this runtime's connections. */
    long id();

    /** The name of the service this connection belongs to. */
    String service();

    /** This side of the link. */
    EndPoint local();

    /** The other side of the link. */
    EndPoint remote();

    /**
     * Reads up to {@code len} bytes into {@code dst}, waiting at most {@code timeout} for the
     * first byte.
     *
     * @return the number of bytes read (at least 1), or -1 at end of stream
     * @throws ManComException with reason TIMEOUT if nothing arrived in time, or the link's failure
     */
    int read(byte[] dst, int off, int len, Duration timeout) throws IOException;

    /** Reads into all of {@code dst}; see {@link #read(byte[], int, int, Duration)}. */
    default int read(byte[] dst, Duration timeout) throws IOException {
        return read(dst, 0, dst.length, timeout);
    }

    /**
     * Reads into the remaining space of {@code dst}, advancing its position; see
     * {@link #read(byte[], int, int, Duration)}.
     */
    int read(ByteBuffer dst, Duration timeout) throws IOException;

    /**
     * Writes all of {@code src}, waiting while the write queue is full.
     *
     * @throws ManComException with reason CLOSED after close, or the link's failure
     */
    void write(byte[] src, int off, int len) throws IOException;

    /** Writes all of {@code src}; see {@link #write(byte[], int, int)}. */
    default void write(byte[] src) throws IOException {
        write(src, 0, src.length);
    }

    /** Writes the remaining bytes of {@code src}, advancing its position to its limit. */
    void write(ByteBuffer src) throws IOException;

    /**
     * A stream view: {@code read()} waits without a time limit (use {@link #read} for one);
     * closing the stream closes the connection.
     */
    InputStream inputStream();

    /** A stream view of {@link #write}; closing the stream closes the connection. */
    OutputStream outputStream();

    /**
     * Finishes this side's writes and keeps reading: the peer sees end of input after what is
     * queued, and {@code read} here goes on until the peer closes or half-closes too (then -1).
     * Returns once the shutdown is sent. Later writes throw {@link ManComException} with reason
     * CLOSED at once ("has shut down its output"), never wait.
     *
     * @throws ManComException with reason IO on a link that has no half-close (serial, USB)
     */
    void shutdownOutput() throws IOException;

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

    /** Whether the connection is still open (data may still be buffered after it closed). */
    boolean isOpen();

    /** Sends what is queued, then closes. Idempotent. */
    @Override
    void close();
}
