package io.mancom.cli.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The reference for the blocking API: plain {@code java.net} sockets with a thread per connection
 * that reads into a 64 KiB array and writes it back, as the blocking server of the benchmark does
 * through ManCom. No event loop at all: each thread does its own system calls, so the data never
 * leaves the thread that reads it. What this server reaches is what a thread-per-connection echo can
 * reach on the machine; the blocking API (an event loop between the socket and the threads) is
 * judged against it as well as against plain Netty.
 */
final class JdkBlockingEchoServer implements EchoServer {
    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final List<Thread> workers = new CopyOnWriteArrayList<>();

    JdkBlockingEchoServer() {
        try {
            server = new ServerSocket(0, 128, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on loopback for the plain-socket echo server: " + e.getMessage(), e);
        }
        acceptor = new Thread(this::acceptLoop, "bench-jdk-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void acceptLoop() {
        while (true) {
            Socket s;
            try {
                s = server.accept();
                s.setTcpNoDelay(true); // as ManCom's TCP default and the Netty baseline
            } catch (IOException e) {
                return; // closed
            }
            open.add(s);
            Thread t = new Thread(() -> {
                try {
                    echo(s);
                } finally {
                    open.remove(s);
                    workers.remove(Thread.currentThread());
                }
            }, "bench-jdk-" + s.getPort());
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    private static void echo(Socket s) {
        byte[] buf = new byte[64 * 1024];
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // The load generator reset the connection, or close() closed it: this worker is done.
        }
    }

    @Override
    public String name() {
        return "plain sockets";
    }

    @Override
    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException e) {
            // Closing is all that is wanted; the accept thread ends either way.
        }
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException e) {
                // As above.
            }
        }
        try {
            acceptor.join(5_000);
            for (Thread t : workers) {
                t.join(5_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
