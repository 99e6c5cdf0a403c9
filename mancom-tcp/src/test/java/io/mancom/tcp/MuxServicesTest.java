package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.ConfigException;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Services that share one TCP connection through the mux, in two runtimes talking over loopback. */
class MuxServicesTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }


    private static String services(String endpoint, String... names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            sb.append("mancom.services.").append(n).append(" { endpoint = \"").append(endpoint).append("\", mux = on }\n");
        }
        return sb.toString();
    }

    /** A server runtime serving {@code names} on one shared ephemeral port, and its bound endpoint. */
    private EndPoint serve(ManCom server) throws Exception {
        server.awaitReady(T);
        return server.boundEndPoint(server.services().stream().filter(n -> !n.equals("demo")).findFirst().orElseThrow()).orElseThrow();
    }

    @Test
    void twoServicesOnOnePortEachReachedByName() throws Exception {
        ManCom server = runtimes.start(services("tcp://127.0.0.1:0", "upper", "reverse"));
        Set<EndPoint> peers = ConcurrentHashMap.newKeySet();
        server.registerDataReceiver("upper", (c, d) -> {
            peers.add(c.remote());
            c.write(new String(bytes(d), StandardCharsets.UTF_8).toUpperCase().getBytes(StandardCharsets.UTF_8));
        });
        server.registerDataReceiver("reverse", (c, d) -> {
            peers.add(c.remote());
            c.write(new StringBuilder(new String(bytes(d), StandardCharsets.UTF_8)).reverse().toString().getBytes(StandardCharsets.UTF_8));
        });
        EndPoint bound = serve(server);
        assertThat(server.boundEndPoint("reverse")).contains(bound);

        ManCom client = runtimes.start(services(bound.toString(), "upper", "reverse"));
        try (BlockingConnection up = client.connect("upper"); BlockingConnection rev = client.connect("reverse")) {
            up.write("hello".getBytes(StandardCharsets.UTF_8));
            rev.write("hello".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(EchoTest.readExactly(up, 5), StandardCharsets.UTF_8)).isEqualTo("HELLO");
            assertThat(new String(EchoTest.readExactly(rev, 5), StandardCharsets.UTF_8)).isEqualTo("olleh");
        }
        assertThat(peers).as("both streams came over one TCP connection").hasSize(1);
    }

    @Test
    void aThousandStreamsOverOneConnectionEachEchoTheirOwnBytes() throws Exception {
        // The block form: `mux = on` followed by `mux.max-streams = ...` in one file would replace
        // the switch with a block that lacks `enabled`.
        String bigMux = "mancom.services.echo.mux { enabled = on, max-streams = 2000 }\n";
        ManCom server = runtimes.start(services("tcp://127.0.0.1:0", "echo") + bigMux);
        Set<EndPoint> peers = ConcurrentHashMap.newKeySet();
        server.registerDataReceiver("echo", (c, d) -> {
            peers.add(c.remote());
            c.write(d);
        });
        EndPoint bound = serve(server);
        ManCom client = runtimes.start(services(bound.toString(), "echo") + bigMux);

        int n = 1000;
        Random random = new Random(42);
        List<byte[]> sent = new ArrayList<>();
        List<CompletableFuture<byte[]>> echoed = new ArrayList<>();
        List<Connection> streams = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] payload = EchoTest.randomBytes(1 + random.nextInt(32 * 1024), i);
            sent.add(payload);
            CompletableFuture<byte[]> done = new CompletableFuture<>();
            echoed.add(done);
            streams.add(client.connectAsync("echo", collector(payload.length, done)).get(30, TimeUnit.SECONDS));
        }
        for (int i = 0; i < n; i++) {
            byte[] p = sent.get(i);
            // Random write sizes: each stream's payload goes out in pieces.
            for (int off = 0; off < p.length; ) {
                int len = Math.min(p.length - off, 1 + random.nextInt(8192));
                streams.get(i).write(p, off, len);
                off += len;
            }
        }
        for (int i = 0; i < n; i++) {
            assertThat(echoed.get(i).get(60, TimeUnit.SECONDS)).as("stream %d", i).isEqualTo(sent.get(i));
        }
        assertThat(peers).as("every stream shared one TCP connection").hasSize(1);
        streams.forEach(Connection::close);
    }

    @Test
    void theServerOpensAStreamToTheClient() throws Exception {
        ManCom server = runtimes.start(services("tcp://127.0.0.1:0", "hello", "push"));
        CompletableFuture<Connection> pushed = new CompletableFuture<>();
        server.registerAcceptor("hello", c -> server.connectAsync("push", (conn, d) -> { }, c)
                .whenComplete((p, err) -> {
                    if (err != null) {
                        pushed.completeExceptionally(err);
                    } else {
                        p.write("from the server".getBytes(StandardCharsets.UTF_8));
                        pushed.complete(p);
                    }
                }));
        server.registerDataReceiver("hello", (c, d) -> { });
        EndPoint bound = serve(server);

        // The client takes "push" streams over the link it dials, without listening itself.
        ManCom client = runtimes.start(services(bound.toString(), "hello", "push") + "mancom.services.push.listen = off");
        CompletableFuture<byte[]> got = new CompletableFuture<>();
        client.registerDataReceiver("push", collector(15, got));
        client.awaitReady(T);
        try (BlockingConnection hello = client.connect("hello")) {
            hello.write(new byte[]{1});
            assertThat(new String(got.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8)).isEqualTo("from the server");
            assertThat(pushed.get(10, TimeUnit.SECONDS).service()).isEqualTo("push");
        }
    }

    @Test
    void aStreamToAServiceTheServerDoesNotServeClosesAtOnce() throws Exception {
        ManCom server = runtimes.start(services("tcp://127.0.0.1:0", "served", "unserved"));
        server.registerDataReceiver("served", (c, d) -> c.write(d));
        EndPoint bound = serve(server);
        ManCom client = runtimes.start(services(bound.toString(), "served", "unserved"));
        try (BlockingConnection c = client.connect("unserved")) {
            assertThat(c.read(new byte[1], T)).isEqualTo(-1);
        }
    }

    @Test
    void blockingAcceptOnAMuxService() throws Exception {
        ManCom server = runtimes.start(services("tcp://127.0.0.1:0", "echo"));
        EndPoint bound = server.listen("echo", T);
        CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
            try (BlockingConnection s = server.accept("echo", T)) {
                byte[] buf = new byte[4096];
                int n;
                while ((n = s.read(buf, T)) > 0) {
                    s.write(buf, 0, n);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        ManCom client = runtimes.start(services(bound.toString(), "echo"));
        byte[] payload = EchoTest.randomBytes(1 << 20, 9);
        try (BlockingConnection c = client.connect("echo")) {
            // Read while writing: with bounded buffers on every hop, an echo client that writes
            // everything before reading would wait on its own unread replies.
            CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> {
                try {
                    return EchoTest.readExactly(c, payload.length);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            c.write(payload);
            assertThat(echoed.get(30, TimeUnit.SECONDS)).isEqualTo(payload);
        }
        served.get(10, TimeUnit.SECONDS);
    }

    @Test
    void servicesSharingAnEndpointMustAllHaveMuxOn() {
        assertThatThrownBy(() -> runtimes.start("mancom.services.a { endpoint = \"tcp://127.0.0.1:7071\", mux = on }\n"
                + "mancom.services.b { endpoint = \"tcp://127.0.0.1:7071\" }"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("services a, b all use endpoint tcp://127.0.0.1:7071, but 'b' has mux off");
    }

    @Test
    void losingTheLinkClosesEveryStreamWithTheCause() throws Exception {
        ManCom server = runtimes.start(services("tcp://127.0.0.1:0", "echo"));
        server.registerDataReceiver("echo", (c, d) -> c.write(d));
        EndPoint bound = serve(server);
        try (Relay relay = new Relay((io.mancom.TcpAddress) bound.address())) {
            // The client dials the relay; cutting the relay is losing the link mid-session.
            ManCom client = runtimes.start(services("tcp://127.0.0.1:" + relay.port(), "echo"));
            List<CompletableFuture<Throwable>> closes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                CompletableFuture<Throwable> closed = new CompletableFuture<>();
                closes.add(closed);
                Connection c = client.connectAsync("echo", new DataReceiver() {
                    @Override
                    public void onData(Connection conn, ByteBuffer d) {
                    }

                    @Override
                    public void onClose(Connection conn, Throwable cause) {
                        closed.complete(cause);
                    }
                }).get(10, TimeUnit.SECONDS);
                c.write(new byte[]{1}).toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            relay.cut();
            for (CompletableFuture<Throwable> c : closes) {
                assertThat(c.get(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(ManComException.class,
                        e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.LINK_FAILED));
            }
        }
    }

    /** A TCP relay for one connection, which the test can cut with a reset. */
    static final class Relay implements AutoCloseable {
        private final java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        private final List<java.net.Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
        // The client's connect completes in the kernel's backlog, before this relay has accepted and
        // dialled on: cut() waits for both sockets, or it would cut nothing.
        private final java.util.concurrent.CountDownLatch connected = new java.util.concurrent.CountDownLatch(1);

        Relay(io.mancom.TcpAddress target) throws java.io.IOException {
            Thread t = new Thread(() -> {
                try {
                    java.net.Socket in = server.accept();
                    java.net.Socket out = new java.net.Socket(target.host(), target.port());
                    sockets.add(in);
                    sockets.add(out);
                    connected.countDown();
                    pipe(in, out);
                    pipe(out, in);
                } catch (java.io.IOException ignored) {
                    // closed by cut()
                }
            }, "relay-accept");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private static void pipe(java.net.Socket from, java.net.Socket to) {
            Thread t = new Thread(() -> {
                try {
                    from.getInputStream().transferTo(to.getOutputStream());
                } catch (java.io.IOException ignored) {
                    // cut
                }
            }, "relay-pipe");
            t.setDaemon(true);
            t.start();
        }

        void cut() throws java.io.IOException, InterruptedException {
            assertThat(connected.await(10, TimeUnit.SECONDS)).as("the relay accepted and dialled on").isTrue();
            cut(sockets);
        }

        private static void cut(List<java.net.Socket> sockets) throws java.io.IOException {
            for (java.net.Socket s : sockets) {
                if (!s.isClosed()) {
                    s.setSoLinger(true, 0);
                    s.close();
                }
            }
        }

        @Override
        public void close() throws java.io.IOException {
            cut(sockets);
            server.close();
        }
    }

    static DataReceiver collector(int expected, CompletableFuture<byte[]> done) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        return new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                byte[] b = bytes(data);
                got.write(b, 0, b.length);
                if (got.size() >= expected) {
                    done.complete(got.toByteArray());
                }
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                done.complete(got.toByteArray());
            }
        };
    }

    static byte[] bytes(ByteBuffer d) {
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return b;
    }
}
