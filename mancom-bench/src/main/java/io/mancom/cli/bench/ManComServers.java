package io.mancom.cli.bench;

import io.mancom.BlockingConnection;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.spi.TransportContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The two ManCom echo servers of the benchmark, each on a runtime of its own. */
final class ManComServers {
    static final String SERVICE = "bench";
    private static final Duration READY = Duration.ofSeconds(10);

    private ManComServers() {
    }

    /**
     * A runtime with one service, {@value #SERVICE}, on an ephemeral loopback port. It reads a config
     * file of its own instead of the system and user files, so the figures are those of ManCom's
     * defaults on every machine; {@code -Dmancom.*} properties still apply, for experiments.
     */
    static ManCom runtime(int ioThreads) {
        try {
            Path conf = Files.createTempFile("mancom-bench", ".conf");
            try {
                Files.writeString(conf, "mancom.services." + SERVICE + " { endpoint = \"tcp://127.0.0.1:0\" }\n");
                return ManCom.builder().configFile(conf).ioThreads(ioThreads).start();
            } finally {
                Files.deleteIfExists(conf);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark's config file: " + e.getMessage(), e);
        }
    }

    /**
     * Whether the runtime's event loops are native epoll (the baseline then uses epoll too). Asked
     * through the transport contract: mancom-core's runtime is the {@link TransportContext} it hands
     * its transports, and offers {@link NettyRuntime} there.
     */
    static boolean isNative(ManCom mancom) {
        return mancom instanceof TransportContext context && context.unwrap(NettyRuntime.class).isNative();
    }

    static InetSocketAddress bound(ManCom mancom) {
        EndPoint at = mancom.boundEndPoint(SERVICE).orElseThrow(
                () -> new IllegalStateException("service '" + SERVICE + "' is not bound after awaitReady"));
        TcpAddress tcp = (TcpAddress) at.address();
        return new InetSocketAddress(tcp.host(), tcp.port());
    }

    /** The callback API: the data receiver writes every chunk back. */
    static final class Callback implements EchoServer {
        private final ManCom mancom;
        private final InetSocketAddress address;

        Callback(int ioThreads) throws ManComException {
            mancom = runtime(ioThreads);
            try {
                mancom.registerDataReceiver(SERVICE, (conn, data) -> conn.write(data));
                mancom.awaitReady(READY);
                address = bound(mancom);
            } catch (ManComException | RuntimeException e) {
                mancom.close();
                throw e;
            }
        }

        boolean isNative() {
            return ManComServers.isNative(mancom);
        }

        @Override
        public String name() {
            return "callback";
        }

        @Override
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public void close() {
            mancom.close();
        }
    }

    /** The blocking API: an accept loop and a thread per connection that reads and writes back. */
    static final class Blocking implements EchoServer {
        private static final Duration POLL = Duration.ofMillis(200);
        private final ManCom mancom;
        private final InetSocketAddress address;
        private final Thread acceptor;
        private final List<Thread> workers = new CopyOnWriteArrayList<>();
        private volatile boolean closing;

        Blocking(int ioThreads) throws ManComException {
            mancom = runtime(ioThreads);
            acceptor = new Thread(this::acceptLoop, "bench-blocking-accept");
            acceptor.setDaemon(true);
            try {
                acceptor.start();
                // accept() binds the service; wait until it has before reading the port.
                awaitBound();
                address = bound(mancom);
            } catch (ManComException | RuntimeException e) {
                close();
                throw e;
            }
        }

        private void awaitBound() throws ManComException {
            long deadline = System.nanoTime() + READY.toNanos();
            while (mancom.boundEndPoint(SERVICE).isEmpty()) {
                if (System.nanoTime() > deadline || !acceptor.isAlive()) {
                    mancom.awaitReady(Duration.ofMillis(1)); // throws with the reason, if there is one
                    throw new ManComException(ManComException.Reason.NOT_READY, "the blocking echo server did not bind in " + READY);
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ManComException(ManComException.Reason.IO, "interrupted", e);
                }
            }
        }

        private void acceptLoop() {
            while (!closing) {
                BlockingConnection c;
                try {
                    c = mancom.accept(SERVICE, POLL);
                } catch (ManComException e) {
                    if (e.reason() == ManComException.Reason.TIMEOUT) {
                        continue; // nobody came: look at the closing flag again
                    }
                    return;
                } catch (IOException | RuntimeException e) {
                    return; // the runtime closed under us
                }
                Thread t = new Thread(() -> {
                    try {
                        echo(c);
                    } finally {
                        workers.remove(Thread.currentThread());
                    }
                }, "bench-blocking-" + c.id());
                t.setDaemon(true);
                workers.add(t);
                t.start();
            }
        }

        private static void echo(BlockingConnection c) {
            byte[] buf = new byte[64 * 1024];
            try (c) {
                while (true) {
                    int n;
                    try {
                        n = c.read(buf, Duration.ofSeconds(30));
                    } catch (ManComException e) {
                        if (e.reason() == ManComException.Reason.TIMEOUT) {
                            continue; // an idle connection is fine
                        }
                        throw e;
                    }
                    if (n < 0) {
                        return;
                    }
                    c.write(buf, 0, n);
                }
            } catch (IOException e) {
                // The load generator closed (or reset) the connection: this worker is done.
            }
        }

        @Override
        public String name() {
            return "blocking";
        }

        @Override
        public InetSocketAddress address() {
            return address;
        }

        @Override
        public void close() {
            closing = true;
            try {
                acceptor.join(POLL.toMillis() * 5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            mancom.close();
            for (Thread t : List.copyOf(workers)) {
                try {
                    t.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
