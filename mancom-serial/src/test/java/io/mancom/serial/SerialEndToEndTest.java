package io.mancom.serial;

import io.mancom.BlockingConnection;
import io.mancom.ConfigException;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.serial.internal.PtyPeer;
import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Serial services through the public API, on real pty pairs. */
class SerialEndToEndTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private PtyPair pty;
    private ManCom mancom;
    private final List<PtyPeer> peers = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        PtyPair.require();
        pty = PtyPair.start(dir);
    }

    @AfterEach
    void stop() throws IOException {
        if (mancom != null) {
            mancom.close();
        }
        peers.forEach(PtyPeer::close);
        if (pty != null) {
            pty.close();
        }
    }

    private ManCom start(String hocon) {
        mancom = TestManCom.start(hocon);
        return mancom;
    }

    private static String serial(Path p, String options) {
        return "\"serial://" + p + options + "\"";
    }

    private PtyPeer peer(Path end) throws IOException {
        PtyPeer p = new PtyPeer(end);
        peers.add(p);
        return p;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void callbackEchoOverAPty() throws Exception {
        start("mancom.services.echo.endpoint = " + serial(pty.a(), "?baud=115200"));
        mancom.registerDataReceiver("echo", (c, data) -> c.write(data));
        mancom.awaitReady(T);
        assertThat(mancom.boundEndPoint("echo")).contains(EndPoint.parse("serial://" + pty.a() + "?baud=115200"));
        PtyPeer peer = peer(pty.b());
        CompletableFuture<byte[]> back = peer.readExactly(13);
        peer.write(ascii("hello, serial"));
        assertThat(back.get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(ascii("hello, serial"));
    }

    @Test
    void blockingClientAgainstCallbackServer() throws Exception {
        start("mancom.services { echo.endpoint = " + serial(pty.a(), "") + "\n line.endpoint = " + serial(pty.b(), "") + " }");
        mancom.registerDataReceiver("echo", (c, data) -> c.write(data));
        mancom.awaitReady(T);
        try (BlockingConnection c = mancom.connect("line")) {
            assertThat(c.remote()).isEqualTo(EndPoint.parse("serial://" + pty.b()));
            assertThat(c.service()).isEqualTo("line");
            c.write(ascii("ping"));
            byte[] buf = new byte[4];
            int n = 0;
            while (n < 4) {
                n += c.read(buf, n, 4 - n, T);
            }
            assertThat(buf).isEqualTo(ascii("ping"));
        }
    }

    @Test
    void sixteenMebibytesFromAServiceArriveByteExact() throws Exception {
        serveSixteenMebibytes(false);
    }

    @Test
    void withoutEpollLoopsTheLineIsServedByThreadsAndStaysByteExact() throws Exception {
        // Where the runtime's loops cannot watch a descriptor (NIO), a reader and a writer thread
        // serve the line through jSerialComm: the same 16 MiB, through the other code path.
        String old = System.getProperty("mancom.native");
        System.setProperty("mancom.native", "false");
        try {
            serveSixteenMebibytes(true);
        } finally {
            if (old == null) {
                System.clearProperty("mancom.native");
            } else {
                System.setProperty("mancom.native", old);
            }
        }
    }

    /**
     * The device channel's reader threads serving {@code device}: the threaded engine names its
     * reader after the device while it runs ({@code mancom-device-reader serial://...}); the
     * event loop serving a descriptor has none.
     */
    private static long readerThreads(Path device) {
        String name = "mancom-device-reader serial://" + device;
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(name)).count();
    }

    private void serveSixteenMebibytes(boolean byThreads) throws Exception {
        start("mancom.services { source.endpoint = " + serial(pty.a(), "") + "\n line.endpoint = " + serial(pty.b(), "") + " }");
        byte[] data = random(16 << 20, 24);
        // The service writes as fast as the line takes it: while writable, then again when told.
        mancom.registerAcceptor("source", c -> {
            int[] off = {0};
            Runnable pump = () -> {
                while (off[0] < data.length && c.isWritable()) {
                    int len = Math.min(32 * 1024, data.length - off[0]);
                    c.write(data, off[0], len);
                    off[0] += len;
                }
            };
            c.setWritabilityListener((conn, writable) -> {
                if (writable) {
                    pump.run();
                }
            });
            pump.run();
        });
        mancom.registerDataReceiver("source", (c, d) -> { });
        mancom.awaitReady(T);
        try (BlockingConnection c = mancom.connect("line")) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[64 * 1024];
            long got = 0;
            while (got < data.length) {
                int n = c.read(buf, 0, (int) Math.min(buf.length, data.length - got), T);
                assertThat(n).isPositive();
                digest.update(buf, 0, n);
                got += n;
            }
            assertThat(digest.digest()).isEqualTo(sha256(data));
            // Which engine served the lines (checked while they are open, after 16 MiB: a reader
            // thread, if any, has long started): on Linux with epoll loops the loop itself, else threads.
            boolean epoll = io.netty.channel.epoll.Epoll.isAvailable() && !byThreads;
            assertThat(readerThreads(pty.a())).as("reader threads of the service's line").isEqualTo(epoll ? 0 : 1);
            assertThat(readerThreads(pty.b())).as("reader threads of the client's line").isEqualTo(epoll ? 0 : 1);
        }
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    @Test
    void killingSocatClosesOnceWithACauseAndTheServiceComesBack() throws Exception {
        start("mancom.services.sink { endpoint = " + serial(pty.a(), "")
                + "\n reconnect { initial-delay = 20ms, max-delay = 200ms } }");
        LinkedBlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        List<Object[]> closes = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> firstClose = new CompletableFuture<>();
        Map<Long, AtomicLong> received = new ConcurrentHashMap<>();
        CompletableFuture<Void> flowing = new CompletableFuture<>();
        mancom.registerAcceptor("sink", accepted::add);
        // Receives only: an echo would couple the two directions through socat's single relay
        // thread (see docs/serial.md), which a real line does not have.
        mancom.registerDataReceiver("sink", new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                if (received.computeIfAbsent(c.id(), id -> new AtomicLong()).addAndGet(data.remaining()) > (1 << 20)) {
                    flowing.complete(null);
                }
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                closes.add(new Object[]{c.id(), cause});
                firstClose.complete(null);
            }
        });
        mancom.awaitReady(T);
        Connection first = accepted.poll(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(first).isNotNull();

        PtyPeer peer = peer(pty.b());
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            byte[] chunk = new byte[16 * 1024];
            try {
                while (true) {
                    peer.write(chunk);
                }
            } catch (IOException expected) {
                // the pty went away under the writer too
            }
        });
        flowing.get(T.toSeconds(), TimeUnit.SECONDS);
        pty.kill(); // mid-transfer: the writer is still writing

        firstClose.get(T.toSeconds(), TimeUnit.SECONDS);
        first.closeFuture().toCompletableFuture().handle((v, t) -> null).get(T.toSeconds(), TimeUnit.SECONDS);
        writer.get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(closes).hasSize(1);
        assertThat(closes.get(0)[0]).isEqualTo(first.id());
        Throwable cause = (Throwable) closes.get(0)[1];
        assertThat(cause).isInstanceOf(ManComException.class).hasMessageContaining("serial port " + pty.a());
        assertThat(((ManComException) cause).reason()).isEqualTo(Reason.LINK_FAILED);
        assertThat(first.isOpen()).isFalse();

        pty.restart();
        Connection second = accepted.poll(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(second).as("a new connection once the port is back").isNotNull();
        assertThat(second.id()).isNotEqualTo(first.id());
        CompletableFuture<byte[]> back = peer(pty.b()).readExactly(5);
        second.write(ascii("again"));
        assertThat(back.get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(ascii("again"));
        peer(pty.b()).write(ascii("hello"));
        Await.until("data on the new connection", T,
                () -> received.getOrDefault(second.id(), new AtomicLong()).get() >= 5);
        assertThat(closes).hasSize(1);
    }

    @Test
    void awaitReadyReportsAPortThatCannotBeOpenedYetThenServesItOnceItAppears() throws Exception {
        Path later = dir.resolve("later");
        start("mancom.services.echo { endpoint = " + serial(later, "")
                + "\n reconnect { initial-delay = 20ms, max-delay = 100ms } }");
        mancom.registerDataReceiver("echo", (c, data) -> c.write(data));
        assertThatThrownBy(() -> mancom.awaitReady(Duration.ofMillis(300)))
                .isInstanceOf(ManComException.class)
                .hasMessageContaining("echo (serial://" + later)
                .hasMessageContaining("device cannot be opened yet: serial port " + later + " does not exist");

        try (PtyPair late = PtyPair.start(later, dir.resolve("later-peer"))) {
            mancom.awaitReady(T);
            PtyPeer peer = peer(late.b());
            CompletableFuture<byte[]> back = peer.readExactly(4);
            peer.write(ascii("late"));
            assertThat(back.get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(ascii("late"));
        }
    }

    @Test
    void connectingToAMissingPortSaysWhichPortsExist() {
        start("mancom.services.line.endpoint = " + serial(dir.resolve("nothing-here"), ""));
        assertThatThrownBy(() -> mancom.connect("line"))
                .isInstanceOf(ManComException.class)
                .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.NO_DEVICE))
                .hasMessageContaining("serial port " + dir.resolve("nothing-here") + " does not exist")
                .hasMessageContaining(pty.a() + " -> /dev/pts/");
    }

    @Test
    void aBadOptionIsAConfigErrorNamingTheAllowedValues() {
        assertThatThrownBy(() -> start("mancom.services.line.endpoint = " + serial(pty.a(), "?parity=maybe")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("parity=maybe").hasMessageContaining("none, even, odd, mark, space");
    }

    @Test
    void theSameProgramRunsOverTcpAndSerialByConfigAlone() throws Exception {
        String tcp = "mancom.services { echo.endpoint = \"tcp://127.0.0.1:0\" }";
        String serial = "mancom.services { echo.endpoint = " + serial(pty.a(), "") + "\n peer.endpoint = " + serial(pty.b(), "") + " }";
        assertThat(roundTrip(tcp, "echo")).isEqualTo("over whatever the config says");
        assertThat(roundTrip(serial, "peer")).isEqualTo("over whatever the config says");
    }

    /** One program: serve echo, connect to it (through clientService), say something, hear it back. */
    private String roundTrip(String config, String clientService) throws Exception {
        try (ManCom m = TestManCom.start(config)) {
            m.registerDataReceiver("echo", (c, data) -> c.write(data));
            m.awaitReady(T);
            try (BlockingConnection c = m.connect(clientService)) {
                byte[] msg = ascii("over whatever the config says");
                c.write(msg);
                byte[] buf = new byte[msg.length];
                int n = 0;
                while (n < buf.length) {
                    n += c.read(buf, n, buf.length - n, T);
                }
                return new String(buf, StandardCharsets.US_ASCII);
            }
        }
    }
}
