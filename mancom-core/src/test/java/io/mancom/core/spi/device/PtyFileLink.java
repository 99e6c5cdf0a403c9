package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.SerialAddress;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A DeviceLink over a pty with plain file I/O: how mancom-core's tests drive a real pty without
 * jSerialComm. Reads block until data comes (socat's raw mode: VMIN=1) and are ended by closing
 * the FileChannel, which Java supports for blocked reads; read and write use separate file
 * channels because one FileChannel serialises its reads and writes.
 */
final class PtyFileLink implements DeviceLink {
    private final Path path;
    private final FileChannel in;
    private final FileChannel out;
    private final EndPoint endpoint;
    private final AtomicBoolean closed = new AtomicBoolean();
    final AtomicBoolean closeCalled = new AtomicBoolean();

    PtyFileLink(Path path) throws IOException {
        this.path = path;
        this.in = FileChannel.open(path, StandardOpenOption.READ);
        this.out = FileChannel.open(path, StandardOpenOption.WRITE);
        this.endpoint = EndPoint.of(SerialAddress.of(path.toString()));
    }

    static DeviceOpener opener() {
        return ep -> {
            String device = ((SerialAddress) ep.address()).device();
            try {
                return new PtyFileLink(Path.of(device));
            } catch (IOException e) {
                throw new ManComException(ManComException.Reason.NO_DEVICE, "cannot open " + device + ": " + e, e);
            }
        };
    }

    @Override
    public int read(byte[] dst, int off, int len) throws IOException {
        int n = in.read(ByteBuffer.wrap(dst, off, len));
        if (n < 0) {
            return -1;
        }
        return n;
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            out.write(src);
        }
    }

    @Override
    public void close() {
        closeCalled.set(true);
        if (closed.compareAndSet(false, true)) {
            try {
                in.close();
            } catch (IOException ignored) {
                // closing a tty does not fail in a way a test could act on
            }
            try {
                out.close();
            } catch (IOException ignored) {
                // as above
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
        return "PtyFileLink[" + path + "]";
    }
}
