package io.mancom.core.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The stream views of a {@link BlockingAdapter}: {@code read} waits without a time limit,
 * {@code available} is what is buffered, and closing either stream closes the connection. They
 * hold no state of their own; thread safety is the adapter's.
 */
final class BlockingStreams {
    private BlockingStreams() {
    }

    static InputStream input(BlockingAdapter a) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                return a.read(b, off, len, BlockingAdapter.FOREVER);
            }

            @Override
            public int available() {
                return a.available();
            }

            @Override
            public void close() {
                a.close();
            }
        };
    }

    static OutputStream output(BlockingAdapter a) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                a.write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                a.write(b, off, len);
            }

            @Override
            public void close() {
                a.close();
            }
        };
    }
}
