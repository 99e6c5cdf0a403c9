package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code framing}: onData receives whole messages over real loopback TCP, from a plain socket that
 * writes them in awkward pieces, from ManCom clients in both API styles, and over a mux stream.
 */
class FramingTest {
    private static final Duration T = Duration.ofSeconds(15);
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }

    /** Each onData as a string, and each close cause. */
    private static final class Messages implements DataReceiver {
        final BlockingQueue<String> data = new LinkedBlockingQueue<>();
        final CompletableFuture<Throwable> closed = new CompletableFuture<>();
        final boolean echo;

        Messages(boolean echo) {
            this.echo = echo;
        }

        @Override
        public void onData(Connection c, ByteBuffer d) {
            if (echo) {
                c.write(d.duplicate());
            }
            data.add(StandardCharsets.UTF_8.decode(d).toString());
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            closed.complete(cause);
        }

        String next() throws InterruptedException {
            String s = data.poll(T.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(s).as("a message within " + T).isNotNull();
            return s;
        }
    }

    private EndPoint serve(ManCom m, DataReceiver r) throws ManComException {
        m.registerDataReceiver("svc", r);
        m.awaitReady(T);
        return m.boundEndPoint("svc").orElseThrow();
    }

    private static Socket socket(EndPoint e) throws java.io.IOException {
        return new Socket(InetAddress.getLoopbackAddress(), ((TcpAddress) e.address()).port());
    }

    @Test
    void linesFromAPlainSocketArriveWholeWithTheirNewline() throws Exception {
        ManCom server = runtimes.start("mancom.services.svc { endpoint = \"tcp://127.0.0.1:0\", framing = lines }");
        Messages got = new Messages(false);
        EndPoint at = serve(server, got);

        try (Socket s = socket(at)) {
            OutputStream out = s.getOutputStream();
            out.write("hel".getBytes(StandardCharsets.UTF_8));
            out.flush();
            out.write("lo\nwor".getBytes(StandardCharsets.UTF_8));
            out.flush();
            out.write("ld\r\nthree\nfour\n".getBytes(StandardCharsets.UTF_8));
            out.flush();

            assertThat(List.of(got.next(), got.next(), got.next(), got.next()))
                    .containsExactly("hello\n", "world\r\n", "three\n", "four\n");
        }
    }

    @Test
    void aLengthFieldFramesBothDirectionsForCallbackClients() throws Exception {
        String config = "mancom.services.svc { endpoint = \"tcp://127.0.0.1:%d\", framing { length-field = 4 } }";
        ManCom server = runtimes.start(config.formatted(0));
        Messages served = new Messages(true);
        EndPoint at = serve(server, served);
        ManCom client = runtimes.start(config.formatted(((TcpAddress) at.address()).port()));
        Messages replies = new Messages(false);

        Connection c = client.connectAsync("svc", replies).get(T.toSeconds(), TimeUnit.SECONDS);
        byte[] big = "x".repeat(200_000).getBytes(StandardCharsets.UTF_8);
        c.write("first".getBytes(StandardCharsets.UTF_8));
        c.write(big);
        c.write("last".getBytes(StandardCharsets.UTF_8));

        // A 200 KB message is one onData on each side, whatever TCP did with it.
        assertThat(List.of(served.next(), served.next().length(), served.next())).containsExactly("first", 200_000, "last");
        assertThat(List.of(replies.next(), replies.next().length(), replies.next())).containsExactly("first", 200_000, "last");
    }

    @Test
    void aBlockingClientsWritesAreFramedAndItReadsWholeMessagesPayloads() throws Exception {
        String config = "mancom.services.svc { endpoint = \"tcp://127.0.0.1:%d\", framing { length-field = 2 } }";
        ManCom server = runtimes.start(config.formatted(0));
        Messages served = new Messages(true);
        EndPoint at = serve(server, served);
        ManCom client = runtimes.start(config.formatted(((TcpAddress) at.address()).port()));

        try (BlockingConnection c = client.connect("svc")) {
            c.write("ping".getBytes(StandardCharsets.UTF_8));
            assertThat(served.next()).isEqualTo("ping");
            // Blocking reads copy bytes: the payload arrives without its prefix.
            byte[] buf = new byte[4];
            int n = 0;
            while (n < 4) {
                int r = c.read(buf, n, 4 - n, T);
                assertThat(r).isPositive();
                n += r;
            }
            assertThat(new String(buf, StandardCharsets.UTF_8)).isEqualTo("ping");
        }
    }

    @Test
    void aLineLongerThanMaxLengthClosesTheConnectionSayingWhy() throws Exception {
        ManCom server = runtimes.start("mancom.services.svc { endpoint = \"tcp://127.0.0.1:0\", "
                + "framing { lines = on, max-length = 16 } }");
        Messages got = new Messages(false);
        EndPoint at = serve(server, got);

        try (Socket s = socket(at)) {
            s.getOutputStream().write("short\n".getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().write("this line is far too long\n".getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();

            assertThat(got.next()).isEqualTo("short\n");
            Throwable cause = got.closed.get(T.toSeconds(), TimeUnit.SECONDS);
            assertThat(cause).isInstanceOfSatisfying(ManComException.class,
                            e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.PROTOCOL))
                    .hasMessageContaining("service 'svc': the peer sent a line longer than framing.max-length (16 bytes)");
            InputStream in = s.getInputStream();
            assertThat(in.read()).as("the server closed the socket").isEqualTo(-1);
        }
    }

    @Test
    void aMuxStreamIsFramedToo() throws Exception {
        String config = "mancom.services.svc { endpoint = \"tcp://127.0.0.1:%d\", mux = on, framing = lines }";
        ManCom server = runtimes.start(config.formatted(0));
        Messages served = new Messages(false);
        EndPoint at = serve(server, served);
        ManCom client = runtimes.start(config.formatted(((TcpAddress) at.address()).port()));

        Connection c = client.connectAsync("svc", new Messages(false)).get(T.toSeconds(), TimeUnit.SECONDS);
        c.write("a mux ".getBytes(StandardCharsets.UTF_8));
        c.write("stream\nsecond line\n".getBytes(StandardCharsets.UTF_8));

        assertThat(List.of(served.next(), served.next())).containsExactly("a mux stream\n", "second line\n");
    }
}
