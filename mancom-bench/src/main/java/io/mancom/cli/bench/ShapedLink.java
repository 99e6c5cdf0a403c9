package io.mancom.cli.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP relay that stands for a network link of a set rate: every connection through it
 * shares one budget of {@code bytesPerSecond} in each direction, as the connections over one real
 * link share its bandwidth (full duplex: the directions do not share). Bytes pass unchanged. Two
 * threads per connection, one per direction; a chunk leaves when its last byte would have left
 * the link, which starts on it when it is free. A sleeping thread wakes late (by up to a
 * millisecond on a busy machine); the link does not lose that time unless it was idle for longer
 * than {@link Budget#SLACK_NANOS}: a link with a queue of that many milliseconds, as real ones
 * have, and without it a relay thread's wake-ups, not the rate, would set the throughput.
 *
 * <p>For {@code bench sniff}: a tunnel carries its clients over a link; on bare loopback the
 * link costs nothing and the tunnel's extra socket hops are all that is measured, so the tunnel is
 * compared with a direct connection over the same shaped link too.
 */
final class ShapedLink implements AutoCloseable {
    private static final int CHUNK = 65536;

    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Budget there;
    private final Budget back;

    ShapedLink(InetSocketAddress target, double bytesPerSecond) throws IOException {
        if (!(bytesPerSecond > 0)) {
            throw new IllegalArgumentException("a link rate must be positive: " + bytesPerSecond);
        }
        this.server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        this.target = target;
        this.there = new Budget(bytesPerSecond);
        this.back = new Budget(bytesPerSecond);
        Thread t = new Thread(this::accept, "shaped-link-accept");
        t.setDaemon(true);
        t.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                Socket out = new Socket();
                try {
                    out.connect(target, 5_000);
                } catch (IOException e) {
                    in.close();
                    out.close();
                    continue;
                }
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                // Each direction ends with a half-close; the second to end closes both sockets.
                AtomicInteger open = new AtomicInteger(2);
                Runnable ended = () -> {
                    if (open.decrementAndGet() == 0) {
                        closeQuietly(in);
                        closeQuietly(out);
                    }
                };
                pump(in, out, there, ended);
                pump(out, in, back, ended);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private static void pump(Socket from, Socket to, Budget budget, Runnable ended) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[CHUNK];
            // The streams are not closed here: closing a socket's stream closes the socket, and
            // the other direction may still be carrying bytes after this one's half-close.
            try {
                InputStream in = from.getInputStream();
                OutputStream os = to.getOutputStream();
                for (int n; (n = in.read(buf)) > 0; ) {
                    long wait = budget.take(n) - System.nanoTime();
                    if (wait > 0) {
                        BenchKit.sleepNanos(wait);
                    }
                    os.write(buf, 0, n);
                }
                to.shutdownOutput();
                ended.run();
            } catch (IOException | InterruptedException e) {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "shaped-link");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    /** One direction's link time, shared by every connection through it. */
    static final class Budget {
        static final long SLACK_NANOS = 2_000_000;
        private final double nanosPerByte;
        private long free;

        Budget(double bytesPerSecond) {
            this.nanosPerByte = 1e9 / bytesPerSecond;
        }

        /** The time (System.nanoTime) at which {@code bytes} taken now have left the link. */
        synchronized long take(int bytes) {
            free = Math.max(System.nanoTime() - SLACK_NANOS, free) + (long) (bytes * nanosPerByte);
            return free;
        }
    }
}
