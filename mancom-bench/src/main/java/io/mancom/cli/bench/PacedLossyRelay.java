package io.mancom.cli.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;

/**
 * A loopback TCP relay that behaves like a serial line: each direction carries at most
 * {@code baud / 10} bytes per second (8N1), flips bits at a bit error rate and drops bytes, from a
 * seed. One connection at a time; two threads per connection (one per direction, so neither
 * direction ever waits for the other). For {@code bench reliable-link}.
 */
final class PacedLossyRelay implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final double bytesPerNano;
    private final double ber;
    private final double drop;
    private final long seed;

    PacedLossyRelay(int targetPort, int baud, double ber, double drop, long seed) throws IOException {
        this.server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.bytesPerNano = baud / 10.0 / 1e9;
        this.ber = ber;
        this.drop = drop;
        this.seed = seed;
        Thread t = new Thread(this::accept, "paced-relay-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void accept() {
        long n = 0;
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                Socket out = new Socket();
                out.connect(target, 5_000);
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                n++;
                pump(in, out, new Random(seed + 2 * n));
                pump(out, in, new Random(seed + 2 * n + 1));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, Random random) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[256];
            long lineFree = 0;
            try (InputStream in = from.getInputStream(); OutputStream os = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    int m = 0;
                    for (int i = 0; i < n; i++) {
                        if (drop > 0 && random.nextDouble() < drop) {
                            continue;
                        }
                        byte b = buf[i];
                        if (ber > 0) {
                            for (int bit = 0; bit < 8; bit++) {
                                if (random.nextDouble() < ber) {
                                    b ^= (byte) (1 << bit);
                                }
                            }
                        }
                        buf[m++] = b;
                    }
                    // The line's pace: the chunk is out when its last byte would have left the
                    // line, which starts on it when it is free (an idle line saves up nothing).
                    long free = Math.max(System.nanoTime(), lineFree);
                    lineFree = free + (long) (m / bytesPerNano);
                    long wait = lineFree - System.nanoTime();
                    if (wait > 0) {
                        BenchKit.sleepNanos(wait);
                    }
                    os.write(buf, 0, m);
                }
            } catch (IOException | InterruptedException ignored) {
                // the other side closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }, "paced-relay");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
