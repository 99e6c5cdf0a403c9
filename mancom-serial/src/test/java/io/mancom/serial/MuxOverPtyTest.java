package io.mancom.serial;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mux over real pty pairs, through the public API only: each end of a socat pair is a ManCom
 * runtime whose services use that end as their serial endpoint, with mux on.
 */
class MuxOverPtyTest {
    private static final Duration T = Duration.ofSeconds(30);
    private static final long S = T.toSeconds();

    @TempDir
    Path dir;
    private PtyPair pty;
    private final TestRuntimes runtimes = new TestRuntimes();

    @BeforeEach
    void startPty() throws IOException {
        PtyPair.require();
        pty = PtyPair.start(dir);
    }

    @AfterEach
    void stop() throws IOException {
        runtimes.close();
        if (pty != null) {
            pty.close();
        }
    }


    /** Services on one pty end with mux on; {@code mux} is the body of the mux block. */
    private static String services(Path end, String mux, String extra, String... names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            sb.append("mancom.services.").append(n).append(" { endpoint = \"serial://").append(end)
                    .append("\", mux { enabled = on").append(mux.isEmpty() ? "" : ", " + mux).append(" }")
                    .append(extra.isEmpty() ? "" : ", " + extra).append(" }\n");
        }
        return sb.toString();
    }

    @Test
    void aHundredConcurrentStreamsWithRandomWriteSizesEachEchoTheirOwnBytes() throws Exception {
        ManCom b = runtimes.start(services(pty.b(), "", "", "echo"));
        b.registerDataReceiver("echo", (c, d) -> c.write(d));
        b.awaitReady(T);
        // A serves nothing: its first connect opens its end of the line and the session on it.
        ManCom a = runtimes.start(services(pty.a(), "", "", "echo"));

        int n = 100;
        Random random = new Random(7);
        List<byte[]> sent = new ArrayList<>();
        List<CompletableFuture<byte[]>> echoed = new ArrayList<>();
        List<CompletableFuture<Connection>> opening = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] payload = new byte[1 + random.nextInt(24 * 1024)];
            random.nextBytes(payload);
            sent.add(payload);
            CompletableFuture<byte[]> done = new CompletableFuture<>();
            echoed.add(done);
            opening.add(a.connectAsync("echo", collector(payload.length, done))); // all opens in flight at once
        }
        List<Connection> streams = new ArrayList<>();
        for (CompletableFuture<Connection> f : opening) {
            streams.add(f.get(S, TimeUnit.SECONDS));
        }
        // Interleave the streams' writes, in random sizes, so frames of all of them share the line.
        int[] offsets = new int[n];
        boolean more = true;
        while (more) {
            more = false;
            for (int i = 0; i < n; i++) {
                byte[] p = sent.get(i);
                if (offsets[i] < p.length) {
                    int len = Math.min(p.length - offsets[i], 1 + random.nextInt(4096));
                    streams.get(i).write(p, offsets[i], len);
                    offsets[i] += len;
                    more = true;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            assertThat(echoed.get(i).get(S, TimeUnit.SECONDS)).as("stream %d", i).isEqualTo(sent.get(i));
        }
        assertThat(streams.stream().map(Connection::remote).distinct()).as("one line under every stream").hasSize(1);
        for (Connection c : streams) {
            c.close();
        }
        for (Connection c : streams) {
            c.closeFuture().toCompletableFuture().get(S, TimeUnit.SECONDS);
        }
    }

    @ParameterizedTest(name = "roles {0} / {1}")
    @CsvSource({"auto, auto", "initiator, responder", "responder, initiator"})
    void twoServicesOnOnePtyPairEachReachedByNameInBothDirections(String roleA, String roleB) throws Exception {
        ManCom a = runtimes.start(services(pty.a(), "role = " + roleA, "", "upper", "reverse"));
        ManCom b = runtimes.start(services(pty.b(), "role = " + roleB, "", "upper", "reverse"));
        serveTagged(a, "A");
        serveTagged(b, "B");
        a.awaitReady(T);
        b.awaitReady(T);

        // Each side's connects reach the other side's services, by name, over the one line.
        assertThat(ask(a, "upper", "hello")).isEqualTo("B:HELLO");
        assertThat(ask(a, "reverse", "hello")).isEqualTo("B:olleh");
        assertThat(ask(b, "upper", "world")).isEqualTo("A:WORLD");
        assertThat(ask(b, "reverse", "world")).isEqualTo("A:dlrow");
        // And all at once: four streams of two services in both directions, open together.
        try (BlockingConnection au = a.connect("upper"); BlockingConnection ar = a.connect("reverse");
             BlockingConnection bu = b.connect("upper"); BlockingConnection br = b.connect("reverse")) {
            for (BlockingConnection c : List.of(au, ar, bu, br)) {
                c.write("abc".getBytes(StandardCharsets.UTF_8));
            }
            assertThat(readString(au, 5)).isEqualTo("B:ABC");
            assertThat(readString(ar, 5)).isEqualTo("B:cba");
            assertThat(readString(bu, 5)).isEqualTo("A:ABC");
            assertThat(readString(br, 5)).isEqualTo("A:cba");
        }
    }

    /**
     * One stream echoing many receive windows of one write, through a served callback echo that
     * pauses its reading while its echo fills its write queue. Over TCP that once stalled (see
     * MuxEchoBeyondWindowTest in mancom-tcp); a line's link keeps small water marks, so here the
     * echo mostly waits for its turn on the link and reading resumes when the link drains, outside
     * the stream's delivery: this covers that path (it passed before the fix as well).
     */
    @ParameterizedTest(name = "{0} bytes, blocking client {1}")
    @CsvSource({"300000, true", "300000, false", "1048576, true", "1048576, false"})
    void oneStreamEchoesOneWriteOfManyWindows(int size, boolean blocking) throws Exception {
        ManCom b = runtimes.start(services(pty.b(), "", "", "echo"));
        b.registerDataReceiver("echo", (c, d) -> c.write(d));
        b.awaitReady(T);
        ManCom a = runtimes.start(services(pty.a(), "", "", "echo"));
        byte[] payload = new byte[size];
        new Random(size).nextBytes(payload);
        if (blocking) {
            try (BlockingConnection c = a.connect("echo", T)) {
                CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                    byte[] got = new byte[size];
                    int off = 0;
                    try {
                        while (off < size) {
                            int r = c.read(got, off, size - off, T);
                            if (r < 0) {
                                throw new AssertionError("end of input after " + off + " of " + size + " bytes");
                            }
                            off += r;
                        }
                    } catch (IOException e) {
                        throw new RuntimeException("after " + off + " of " + size + " bytes", e);
                    }
                    return got;
                });
                c.write(payload);
                assertThat(back.get(S, TimeUnit.SECONDS)).isEqualTo(payload);
            }
        } else {
            CompletableFuture<byte[]> back = new CompletableFuture<>();
            Connection c = a.connectAsync("echo", collector(size, back)).get(S, TimeUnit.SECONDS);
            try {
                c.write(payload).toCompletableFuture().get(S, TimeUnit.SECONDS);
                assertThat(back.get(S, TimeUnit.SECONDS)).isEqualTo(payload);
            } finally {
                c.close();
            }
        }
    }

    /** upper and reverse, each answering with the runtime's tag, so a reply says who served it. */
    private static void serveTagged(ManCom m, String tag) {
        m.registerDataReceiver("upper", (c, d) ->
                c.write((tag + ":" + string(d).toUpperCase(Locale.ROOT)).getBytes(StandardCharsets.UTF_8)));
        m.registerDataReceiver("reverse", (c, d) ->
                c.write((tag + ":" + new StringBuilder(string(d)).reverse()).getBytes(StandardCharsets.UTF_8)));
    }

    private static String ask(ManCom m, String service, String text) throws IOException {
        try (BlockingConnection c = m.connect(service, T)) {
            c.write(text.getBytes(StandardCharsets.UTF_8));
            return readString(c, text.length() + 2);
        }
    }

    @Test
    void aLostLineEndsEveryStreamOnceWithACauseAndTheSessionIsRebuiltWhenItReturns() throws Exception {
        String reconnect = "reconnect { initial-delay = 20ms, max-delay = 200ms }";
        ManCom a = runtimes.start(services(pty.a(), "", reconnect, "echo"));
        ManCom b = runtimes.start(services(pty.b(), "", reconnect, "echo"));
        List<Object[]> serverCloses = new CopyOnWriteArrayList<>();
        for (ManCom m : List.of(a, b)) {
            m.registerDataReceiver("echo", new DataReceiver() {
                @Override
                public void onData(Connection c, ByteBuffer d) {
                    c.write(d);
                }

                @Override
                public void onClose(Connection c, Throwable cause) {
                    serverCloses.add(new Object[] {c.id(), cause});
                }
            });
        }
        a.awaitReady(T);
        b.awaitReady(T);

        int n = 5;
        List<Recorder> streams = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Recorder r = new Recorder();
            r.connection = a.connectAsync("echo", r).get(S, TimeUnit.SECONDS);
            streams.add(r);
            byte[] ping = ("ping " + i).getBytes(StandardCharsets.UTF_8);
            r.expect(ping.length);
            r.connection.write(ping);
            assertThat(r.data.get(S, TimeUnit.SECONDS)).isEqualTo(ping);
        }
        assertThat(serverCloses).isEmpty();

        pty.kill();
        for (Recorder r : streams) {
            Throwable cause = r.closed.get(S, TimeUnit.SECONDS);
            assertThat(cause).as("the close cause of stream %d", r.connection.id()).isInstanceOf(ManComException.class);
            r.connection.closeFuture().toCompletableFuture().handle((v, t) -> null).get(S, TimeUnit.SECONDS);
            assertThat(r.connection.isOpen()).isFalse();
        }
        // The serving side's ends of the streams (on B) end too, each with a cause.
        Await.until("a close event on the serving side for each of the " + n + " streams",
                T, () -> serverCloses.size() >= n);
        assertThat(serverCloses).hasSize(n)
                .allSatisfy(c -> assertThat((Throwable) c[1]).isInstanceOf(ManComException.class));
        List<Object[]> lossCloses = List.copyOf(serverCloses);

        pty.restart();
        // Both runtimes reopen their ends on their own (reconnect) and meet in a new session; a
        // connect made while that happens waits for it (no retry: the first connect must work).
        Recorder again = new Recorder();
        again.connection = a.connectAsync("echo", again).get(S, TimeUnit.SECONDS);
        byte[] hello = "after the line came back".getBytes(StandardCharsets.UTF_8);
        again.expect(hello.length);
        again.connection.write(hello);
        assertThat(again.data.get(S, TimeUnit.SECONDS)).isEqualTo(hello);
        // B opens a stream the other way, too.
        assertThat(askEcho(b, "and back")).isEqualTo("and back");

        for (Recorder r : streams) {
            assertThat(r.closeCount).as("close events of stream %d", r.connection.id()).isEqualTo(1);
        }
        // No stream of the old session got a second close event; the only new ones are clean
        // closes of the streams that went over the new session.
        // A snapshot: close events of the new session's streams may still be arriving, and a
        // sub-list view of a CopyOnWriteArrayList fails if the list changes under it.
        List<Object[]> closes = new ArrayList<>(serverCloses);
        assertThat(closes.subList(0, n)).containsExactlyElementsOf(lossCloses);
        assertThat(closes.subList(n, closes.size())).allSatisfy(c -> assertThat(c[1]).isNull());
        again.connection.close();
    }

    private static String askEcho(ManCom m, String text) throws IOException {
        try (BlockingConnection c = m.connect("echo", T)) {
            c.write(text.getBytes(StandardCharsets.UTF_8));
            return readString(c, text.length());
        }
    }

    /** A client stream's receiver: what arrived, and its close events. */
    private static final class Recorder implements DataReceiver {
        volatile Connection connection;
        volatile CompletableFuture<byte[]> data = new CompletableFuture<>();
        final CompletableFuture<Throwable> closed = new CompletableFuture<>();
        volatile int closeCount;
        private final ByteArrayOutputStream got = new ByteArrayOutputStream();
        private int expected;

        synchronized void expect(int n) {
            got.reset();
            expected = n;
            data = new CompletableFuture<>();
        }

        @Override
        public synchronized void onData(Connection c, ByteBuffer d) {
            byte[] b = bytes(d);
            got.write(b, 0, b.length);
            if (got.size() >= expected) {
                data.complete(got.toByteArray());
            }
        }

        @Override
        public synchronized void onClose(Connection c, Throwable cause) {
            closeCount++;
            closed.complete(cause);
        }
    }

    private static DataReceiver collector(int expected, CompletableFuture<byte[]> done) {
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
                done.completeExceptionally(new AssertionError("stream closed after " + got.size() + " of " + expected
                        + " bytes", cause));
            }
        };
    }

    private static String readString(BlockingConnection c, int n) throws IOException {
        byte[] buf = new byte[n];
        int off = 0;
        while (off < n) {
            int r = c.read(buf, off, n - off, T);
            if (r < 0) {
                break;
            }
            off += r;
        }
        return new String(buf, 0, off, StandardCharsets.UTF_8);
    }

    private static String string(ByteBuffer d) {
        return new String(bytes(d), StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ByteBuffer d) {
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return b;
    }
}
