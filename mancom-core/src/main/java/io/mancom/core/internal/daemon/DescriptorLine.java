package io.mancom.core.internal.daemon;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.core.spi.device.DeviceLink;
import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A device line the daemon handed over ({@code ManCom-Carry: device}): this process's copy of the
 * descriptor of a serial line the daemon opened and set up (baud, raw mode, non-blocking), served
 * by the event loop ({@link #descriptor()}) as the daemon's own serial link is. The process never
 * reconfigures it: the line's settings are the daemon's, and so is line control.
 *
 * <p>Lifecycle: open from construction until {@link #close()}, which closes only this copy (the
 * daemon keeps its own, and the device). Thread-safe.
 */
final class DescriptorLine implements DeviceLink {
    private final FileDescriptor fd;
    private final EndPoint endpoint;
    private final AtomicBoolean closed = new AtomicBoolean();

    DescriptorLine(FileDescriptor fd, EndPoint endpoint) {
        this.fd = fd;
        this.endpoint = endpoint;
    }

    @Override
    public int descriptor() {
        return fd.intValue();
    }

    /** Never called: the channel serves the descriptor on its epoll loop. */
    @Override
    public int read(byte[] dst, int off, int len) throws IOException {
        throw new IOException(endpoint + ": a line handed over by the daemon is read by the event loop");
    }

    /** Never called: the channel serves the descriptor on its epoll loop. */
    @Override
    public void write(ByteBuffer src) throws IOException {
        throw new IOException(endpoint + ": a line handed over by the daemon is written by the event loop");
    }

    @Override
    public IOException descriptorFailure(IOException cause) {
        String why = cause != null ? "failed: " + cause.getMessage() : "hung up";
        return new ManComException(ManComException.Reason.LINK_FAILED, "serial line " + endpoint
                + " (handed over by the ManCom daemon) " + why + "; the daemon reopens it and hands it over again");
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                fd.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    @Override
    public EndPoint local() {
        return endpoint;
    }

    @Override
    public EndPoint remote() {
        return endpoint;
    }

    @Override
    public String toString() {
        return "line " + endpoint + " (fd " + fd.intValue() + ", from the daemon)";
    }
}
