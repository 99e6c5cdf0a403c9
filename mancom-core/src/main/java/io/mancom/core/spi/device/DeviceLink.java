package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * One open byte-pipe device (a serial line, later a pair of USB bulk endpoints), seen through the
 * narrowest interface a {@link DeviceChannel} needs. It names no Netty type, so a device transport
 * only wraps its driver library here and gets the channel, the listener and reopening for free.
 *
 * <h2>Lifecycle</h2>
 * A link is open when a {@link DeviceOpener} returns it and stays open until {@link #close()} or
 * until it fails. It is never reopened: a new open makes a new link.
 *
 * <h2>Threading</h2>
 * The channel calls {@link #read} from one reader thread and {@link #write} from one writer thread
 * at a time (the two may run at once), and {@link #close()} from any thread, also while a read or
 * a write is blocked. No method is called on an event loop.
 *
 * <h2>Buffer ownership</h2>
 * {@code read} fills the caller's array and keeps no reference to it. {@code write} reads the
 * buffer's remaining bytes, advances its position, and keeps no reference after it returns.
 *
 * <h2>Errors</h2>
 * A failing device makes {@code read} or {@code write} throw an {@link IOException}, preferably a
 * {@link io.mancom.ManComException} whose message names the device and says what happened (the
 * channel passes it on unchanged as the connection's close cause).
 */
public interface DeviceLink {

    /**
     * Reads what the device has, waiting at most the link's own short read timeout (a few hundred
     * milliseconds at most, so that the reader notices a close).
     *
     * @return the number of bytes read, 1 to {@code len}; 0 if the timeout passed with no data;
     *         -1 if the device reached end of stream (it will never deliver more)
     * @throws IOException if the device failed or disappeared; after {@link #close()} a read may
     *                     also throw or return -1
     */
    int read(byte[] dst, int off, int len) throws IOException;

    /**
     * Writes all of {@code src}'s remaining bytes, blocking while the device (or the peer, through
     * flow control) does not take them. {@link #close()} makes a blocked write return or throw.
     *
     * @throws IOException if the device failed, disappeared or was closed
     */
    void write(ByteBuffer src) throws IOException;

    /**
     * Releases the device (and any lock on it) so that it can be opened again. Idempotent, never
     * throws; makes a blocked {@link #read} or {@link #write} return soon.
     */
    void close();

    /**
     * Sets who is told when the link learns of a failure by itself rather than from a read or a
     * write (a driver's "disconnected" event). The channel sets it once, before its first read, so
     * that a device lost while the application has paused reading still closes the connection at
     * once. The listener may be called on any thread, at most once; it must not block. Links whose
     * failures always show in {@code read} keep the default, which ignores it.
     */
    default void onFailure(Consumer<? super IOException> listener) {
    }

    /**
     * The device's open file descriptor, if the event loop should do the link's I/O itself: -1
     * (the default) for links served through {@link #read} and {@link #write} on blocking threads.
     *
     * <p>A link that returns a descriptor promises that it is non-blocking both ways: a read
     * with nothing waiting returns at once with no bytes (a tty with {@code VMIN = 0, VTIME = 0},
     * or {@code EAGAIN}), and a write takes what fits and returns ({@code O_NONBLOCK}). The
     * channel then watches it with the epoll event loop it is registered on, exactly as Netty
     * serves a socket: no reader or writer thread, no copy between threads, data read straight
     * into pooled direct buffers. It never calls {@link #read} or {@link #write} then, and never
     * closes the descriptor: it stops watching it before it calls {@link #close()}, which
     * closes it. Only offered when the runtime runs epoll event loops (the opener is told).
     */
    default int descriptor() {
        return -1;
    }

    /**
     * The close cause to report when I/O on the {@link #descriptor()} failed ({@code cause}, a
     * raw error such as {@code read(..) failed: Input/output error}) or the device hung up
     * ({@code cause == null}): the link's own message naming the device, as {@link #read} would
     * have thrown. The default passes the cause on, or says the device hung up.
     */
    default IOException descriptorFailure(IOException cause) {
        return cause != null ? cause
                : new ManComException(ManComException.Reason.LINK_FAILED, remote() + " hung up");
    }

    /** This side of the link, for {@link io.mancom.Connection#local()}. */
    EndPoint local();

    /** The other side of the link, for {@link io.mancom.Connection#remote()}. */
    EndPoint remote();
}
