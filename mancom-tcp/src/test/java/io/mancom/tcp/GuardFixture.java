package io.mancom.tcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.testkit.TestManCom;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A runtime with one echo service and the helpers the limit, filter and timeout tests share. */
final class GuardFixture implements AutoCloseable {
    final ManComRuntime mancom;
    final int port;

    private GuardFixture(ManComRuntime mancom) {
        this.mancom = mancom;
        this.port = ((TcpAddress) mancom.boundEndPoint("echo").orElseThrow().address()).port();
    }

    /** An echo that records each server-side close and its cause, so a test knows when a slot is free again and why. */
    static final class Echo implements io.mancom.DataReceiver {
        final java.util.concurrent.LinkedBlockingQueue<Throwable> closed = new java.util.concurrent.LinkedBlockingQueue<>();

        @Override
        public void onData(io.mancom.Connection c, java.nio.ByteBuffer data) {
            c.write(data);
        }

        @Override
        public void onClose(io.mancom.Connection c, Throwable cause) {
            closed.add(cause == null ? new Throwable("clean close") : cause);
        }

        /** The cause of the next server-side close (a Throwable saying "clean close" for a clean one). */
        Throwable nextClose() throws InterruptedException {
            Throwable t = closed.poll(30, java.util.concurrent.TimeUnit.SECONDS);
            if (t == null) {
                throw new AssertionError("no server-side close within 30 s");
            }
            return t;
        }
    }

    /** Sockets a test opens; closed together. */
    static final class Clients extends java.util.ArrayList<Socket> implements AutoCloseable {
        @Override
        public void close() throws IOException {
            for (Socket s : this) {
                s.close();
            }
        }
    }

    /** Connects {@code n} clients from {@code from} and checks that each is served. */
    void servedEach(Clients into, String from, int n) throws IOException {
        for (int i = 0; i < n; i++) {
            Socket s = connect(from);
            into.add(s);
            if (!echoes(s)) {
                throw new AssertionError("connection " + i + " from " + from + " was not served");
            }
        }
    }

    /** A connect from {@code from} gets no answer at all (its SYN was dropped): it times out, neither refused nor reset. */
    void assertSynDropped(String from) throws IOException {
        try (Socket bad = new Socket()) {
            bad.bind(new InetSocketAddress(from, 0));
            bad.connect(new InetSocketAddress(from.contains(":") ? "::1" : "127.0.0.1", port), 1500);
            throw new AssertionError("a connection from " + from + " was completed");
        } catch (java.net.SocketTimeoutException expected) {
            // no SYN-ACK within 1.5 s
        }
    }

    /** Starts an echo service on 127.0.0.1 with {@code tcp} settings (HOCON under the service's tcp block). */
    static GuardFixture echo(Path runtimeDir, String tcp, io.mancom.DataReceiver receiver) throws IOException {
        return echo(runtimeDir, "tcp://127.0.0.1:0", tcp, receiver);
    }

    static GuardFixture echo(Path runtimeDir, String endpoint, String tcp, io.mancom.DataReceiver receiver)
            throws IOException {
        ManCom m = TestManCom.start("mancom.services.demo = null\n"
                + "mancom.services.echo.endpoint = \"" + endpoint + "\"\n"
                + "mancom.services.echo.tcp { " + tcp + " }\n"
                + "mancom.runtime-dir = \"" + runtimeDir + "\"\n");
        try {
            m.registerDataReceiver("echo", receiver);
            m.awaitReady(java.time.Duration.ofSeconds(10));
        } catch (RuntimeException | IOException e) {
            m.close();
            throw e;
        }
        return new GuardFixture((ManComRuntime) m);
    }

    /** A client bound to {@code from} (127.0.0.2 is loopback too), connected. */
    Socket connect(String from) throws IOException {
        return connect(from, from.contains(":") ? "::1" : "127.0.0.1");
    }

    /** A client bound to {@code from}, connected to the service at {@code to}. */
    Socket connect(String from, String to) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress(to, port), 10_000);
        return s;
    }

    /**
     * Whether a new connection from {@code from} is served (echoes a byte); false when the server
     * closed or reset it, which on loopback may already fail the connect.
     */
    boolean served(String from) throws IOException {
        Socket s;
        try {
            s = connect(from);
        } catch (SocketException e) {
            return false;
        }
        try (s) {
            return echoes(s);
        }
    }

    /** Whether the server echoes one byte on {@code s}: true, or false when it closed or reset the connection. */
    static boolean echoes(Socket s) throws IOException {
        s.setSoTimeout(30_000);
        try {
            s.getOutputStream().write('x');
            InputStream in = s.getInputStream();
            return in.read() == 'x';
        } catch (SocketException e) { // reset: the connection was refused after accept
            return false;
        }
    }

    /** The service's {@code refused} counts from the control socket's /status. */
    JsonNode refused() throws IOException {
        JsonNode status = new ObjectMapper().readTree(UnixHttp.get(controlSocket(), "/status").body());
        for (JsonNode s : status.path("services")) {
            if (s.path("name").asText().equals("echo")) {
                return s.path("refused");
            }
        }
        throw new AssertionError("no service echo in " + status);
    }

    String metrics() throws IOException {
        return UnixHttp.get(controlSocket(), "/metrics").body();
    }

    Path controlSocket() {
        return mancom.controlSocket().orElseThrow(() -> new AssertionError("no control socket"));
    }

    /**
     * The descriptor of this process's listening TCP socket on {@code port}: its inode from
     * /proc/net/tcp (or tcp6), then the /proc/self/fd entry that links to {@code socket:[inode]}.
     */
    static int listenerFd(int port) throws IOException {
        String inode = null;
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(":" + String.format("%04X", port)) && f[3].equals("0A")) {
                    inode = f[9];
                }
            }
        }
        if (inode == null) {
            throw new AssertionError("no listening socket on port " + port + " in /proc/net/tcp*");
        }
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().equals("socket:[" + inode + "]")) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        throw new AssertionError("no descriptor of this process for socket inode " + inode);
    }

    @Override
    public void close() {
        mancom.close();
    }
}
