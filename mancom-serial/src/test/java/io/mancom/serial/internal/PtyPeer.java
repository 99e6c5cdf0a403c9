package io.mancom.serial.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;

/**
 * The test's own end of a pty pair, with plain file I/O (separate channels for reading and
 * writing: one FileChannel would serialise them). Closing it ends a blocked read.
 */
public final class PtyPeer implements AutoCloseable {
    private final FileChannel in;
    private final FileChannel out;

    public PtyPeer(Path end) throws IOException {
        in = FileChannel.open(end, StandardOpenOption.READ);
        out = FileChannel.open(end, StandardOpenOption.WRITE);
    }

    public void write(byte[] b) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b);
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }

    public int read(byte[] b, int off, int len) throws IOException {
        return in.read(ByteBuffer.wrap(b, off, len));
    }

    /** Reads exactly {@code n} bytes in the background. */
    public CompletableFuture<byte[]> readExactly(int n) {
        return CompletableFuture.supplyAsync(() -> {
            byte[] b = new byte[n];
            int got = 0;
            try {
                while (got < n) {
                    int r = read(b, got, n - got);
                    if (r < 0) {
                        throw new IOException("end of stream after " + got + " of " + n + " bytes");
                    }
                    got += r;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return b;
        });
    }

    @Override
    public void close() {
        try {
            in.close();
            out.close();
        } catch (IOException ignored) {
            // nothing a test can do about a tty that fails to close
        }
    }
}
