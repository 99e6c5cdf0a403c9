package io.mancom.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP relay that damages what it carries, from a seed: flips bits at a bit error rate,
 * drops bytes, inserts garbage bursts, and can cut every connection through it (a pulled cable;
 * new connections are relayed again). For tests of the reliable link over TCP. Each direction of
 * each connection has a thread of its own and its own random stream (seed, connection, direction).
 */
final class FaultyTcpRelay implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final long seed;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicLong connections = new AtomicLong();
    volatile double ber;
    volatile double dropPerByte;
    volatile double garbagePerChunk;
    final AtomicLong flipped = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong garbage = new AtomicLong();

    FaultyTcpRelay(int targetPort, long seed) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.seed = seed;
        Thread t = new Thread(this::accept, "faulty-relay-accept");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return server.getLocalPort();
    }

    long connections() {
        return connections.get();
    }

    /** Closes every relayed connection now (both sides see a reset or an end). */
    void cut() {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        sockets.clear();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket in = server.accept();
                Socket out = new Socket();
                out.connect(target, 5_000);
                in.setTcpNoDelay(true);
                out.setTcpNoDelay(true);
                sockets.add(in);
                sockets.add(out);
                long n = connections.incrementAndGet();
                pump(in, out, new Random(seed * 1_000_003 + n * 2), "up-" + n);
                pump(out, in, new Random(seed * 1_000_003 + n * 2 + 1), "down-" + n);
            } catch (IOException e) {
                if (server.isClosed()) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to, Random random, String name) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            byte[] out = new byte[4096 + 64];
            try (InputStream in = from.getInputStream(); OutputStream os = to.getOutputStream()) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    int m = 0;
                    if (random.nextDouble() < garbagePerChunk) {
                        int g = 1 + random.nextInt(32);
                        for (int i = 0; i < g; i++) {
                            out[m++] = (byte) random.nextInt(256);
                        }
                        garbage.addAndGet(g);
                    }
                    for (int i = 0; i < n; i++) {
                        if (dropPerByte > 0 && random.nextDouble() < dropPerByte) {
                            dropped.incrementAndGet();
                            continue;
                        }
                        byte b = buf[i];
                        if (ber > 0 && random.nextDouble() < ber * 8) {
                            b ^= (byte) (1 << random.nextInt(8));
                            flipped.incrementAndGet();
                        }
                        out[m++] = b;
                    }
                    os.write(out, 0, m);
                }
            } catch (IOException ignored) {
                // cut, or the other side closed
            } finally {
                try {
                    from.close();
                    to.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }, "faulty-relay-" + name);
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        server.close();
        cut();
    }
}
