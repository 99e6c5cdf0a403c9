package io.mancom.tcp;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Many connections, close events, and memory that stays bounded against a peer that won't read. */
class ManyConnectionsTest {
    private static final Duration T = Duration.ofSeconds(10);
    private ManCom mancom;

    @AfterEach
    void close() {
        if (mancom != null) {
            mancom.close();
        }
    }

    @Test
    void thousandConcurrentConnectionsEachEchoTheirOwnBytes() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"\n"
                + "mancom.services.echo.tcp.backlog = 2048");
        Map<Long, AtomicInteger> closesPerServerConnection = new ConcurrentHashMap<>();
        mancom.registerDataReceiver("echo", new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                c.write(data);
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                closesPerServerConnection.computeIfAbsent(c.id(), k -> new AtomicInteger()).incrementAndGet();
            }
        });
        mancom.awaitReady(T);

        int n = 1000;
        int size = 16 * 1024;
        List<CompletableFuture<byte[]>> echoed = new ArrayList<>();
        List<byte[]> sent = new ArrayList<>();
        List<Connection> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] payload = EchoTest.randomBytes(size, i);
            sent.add(payload);
            CompletableFuture<byte[]> done = new CompletableFuture<>();
            echoed.add(done);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            clients.add(mancom.connectAsync("echo", new DataReceiver() {
                @Override
                public void onData(Connection c, ByteBuffer data) {
                    byte[] b = new byte[data.remaining()];
                    data.get(b);
                    got.write(b, 0, b.length);
                    if (got.size() >= size) {
                        done.complete(got.toByteArray());
                    }
                }

                @Override
                public void onClose(Connection c, Throwable cause) {
                    done.complete(got.toByteArray());
                }
            }).get(30, TimeUnit.SECONDS));
        }
        // Every connection is open at once before any data moves.
        for (int i = 0; i < n; i++) {
            clients.get(i).write(sent.get(i));
        }
        for (int i = 0; i < n; i++) {
            assertThat(echoed.get(i).get(60, TimeUnit.SECONDS)).as("connection %d", i).isEqualTo(sent.get(i));
        }
        for (Connection c : clients) {
            c.close();
        }
        for (Connection c : clients) {
            c.closeFuture().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        // Every server-side connection saw exactly one close event.
        CompletableFuture.runAsync(() -> {
            while (closesPerServerConnection.size() < n) {
                Thread.onSpinWait();
            }
        }).get(30, TimeUnit.SECONDS);
        assertThat(closesPerServerConnection).hasSize(n);
        assertThat(closesPerServerConnection.values()).allMatch(count -> count.get() == 1);
    }

    @Test
    void aResetByThePeerIsOneCloseEventWithTheCause() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        CopyOnWriteArrayList<Throwable> causes = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        CompletableFuture<Void> gotData = new CompletableFuture<>();
        mancom.registerDataReceiver("echo", new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                gotData.complete(null);
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                causes.add(cause == null ? new NullPointerException("clean close") : cause);
                closed.complete(null);
            }
        });
        mancom.awaitReady(T);
        TcpAddress a = (TcpAddress) mancom.boundEndPoint("echo").orElseThrow().address();
        try (Socket s = new Socket(a.host(), a.port())) {
            s.getOutputStream().write(1);
            gotData.get(10, TimeUnit.SECONDS);
            s.setSoLinger(true, 0); // close() now sends RST
        }
        closed.get(10, TimeUnit.SECONDS);
        assertThat(causes).singleElement().isInstanceOf(ManComException.class);
        ManComException e = (ManComException) causes.get(0);
        assertThat(e.reason()).isEqualTo(ManComException.Reason.LINK_FAILED);
        assertThat(e).hasMessageContaining("service 'echo'").hasMessageContaining("reset");
    }

    @Test
    void aCleanCloseByThePeerHasNoCause() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        CompletableFuture<Throwable> cause = new CompletableFuture<>();
        mancom.registerDataReceiver("echo", new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
            }

            @Override
            public void onClose(Connection c, Throwable t) {
                cause.complete(t);
            }
        });
        mancom.awaitReady(T);
        TcpAddress a = (TcpAddress) mancom.boundEndPoint("echo").orElseThrow().address();
        try (Socket s = new Socket(a.host(), a.port())) {
            s.getOutputStream().write(new byte[]{1, 2, 3});
        }
        assertThat(cause.get(10, TimeUnit.SECONDS)).isNull();
    }

    @Test
    void aPeerThatNeverReadsDoesNotGrowTheServersMemory() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        AtomicLong received = new AtomicLong();
        mancom.registerDataReceiver("echo", (c, data) -> {
            received.addAndGet(data.remaining());
            c.write(data);
        });
        mancom.awaitReady(T);
        TcpAddress a = (TcpAddress) mancom.boundEndPoint("echo").orElseThrow().address();
        long limit = 256L << 20;
        long written = 0;
        try (SocketChannel ch = SocketChannel.open(new InetSocketAddress(a.host(), a.port()));
             Selector selector = Selector.open()) {
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_WRITE);
            ByteBuffer chunk = ByteBuffer.wrap(EchoTest.randomBytes(64 * 1024, 7));
            while (written < limit) {
                chunk.clear();
                int n = ch.write(chunk);
                if (n > 0) {
                    written += n;
                    continue;
                }
                // Blocked: the server stopped reading. If it stays blocked for 3 s the link is
                // stalled for good (a server that kept reading would drain us in microseconds).
                selector.selectedKeys().clear();
                if (selector.select(3000) == 0) {
                    break;
                }
            }
        }
        assertThat(written).as("bytes the client could write before the server pushed back").isLessThan(limit);
        // What the server took in is bounded by its write queue plus the kernel's socket buffers.
        assertThat(received.get()).isLessThan(48L << 20);
    }

    @Test
    void closeLeavesNoThreadAndNoPortBehind() throws Exception {
        ManCom m = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        m.registerDataReceiver("echo", (c, data) -> c.write(data));
        m.awaitReady(T);
        EndPoint bound = m.boundEndPoint("echo").orElseThrow();
        var client = m.connect("echo");
        client.write(new byte[]{42});
        assertThat(EchoTest.readExactly(client, 1)).containsExactly(42);
        m.close();
        m.close(); // idempotent

        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.isAlive() && t.getName().startsWith("mancom-"));
        TcpAddress a = (TcpAddress) bound.address();
        try (java.net.ServerSocket again = new java.net.ServerSocket()) {
            again.setReuseAddress(true);
            again.bind(new InetSocketAddress(a.host(), a.port()));
            assertThat(again.isBound()).isTrue();
        }
        InputStream in = client.inputStream();
        assertThat(in.read()).isEqualTo(-1);
    }
}
