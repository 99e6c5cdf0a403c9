package io.mancom.nativeshim;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Real compiled C programs against Java and against each other, over TCP on loopback. */
@Timeout(60)
class CInteropTest {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private static String tcp(String service, int port) {
        return service + " { endpoint = \"tcp://127.0.0.1:" + port + "\" }\n";
    }

    private static byte[] roundTrip(ManCom mancom, String service, String text) throws IOException {
        try (BlockingConnection c = mancom.connect(service, T)) {
            byte[] out = text.getBytes(StandardCharsets.UTF_8);
            c.write(out);
            byte[] in = new byte[out.length];
            int n = 0;
            while (n < in.length) {
                int r = c.read(in, n, in.length - n, T);
                assertThat(r).as("bytes before end of stream").isPositive();
                n += r;
            }
            return in;
        }
    }

    @Test
    void cCallbackServerWithJavaClient() throws Exception {
        int port = CPrograms.freePort();
        Path config = CPrograms.config(dir, "mancom.services { " + tcp("echo", port) + " }");
        try (CProcess server = CPrograms.start(CPrograms.sample("echo_server"), config, List.of());
             ManCom client = TestManCom.start("mancom.services { " + tcp("echo", port) + " }")) {
            server.awaitLine("serving 'echo'", T);
            assertThat(new String(roundTrip(client, "echo", "hello, C server"), StandardCharsets.UTF_8)).isEqualTo("hello, C server");
            String big = "x".repeat(300_000);   // more than one chunk, more than the read buffer
            assertThat(roundTrip(client, "echo", big)).hasSize(300_000);
            assertThat(server.stop(T)).as(server.output()).isZero();
        }
    }

    @Test
    void javaServerWithCBlockingClient() throws Exception {
        int port = CPrograms.freePort();
        try (ManCom server = TestManCom.start("mancom.services { " + tcp("echo", port) + " }")) {
            server.registerDataReceiver("echo", (c, data) -> c.write(data));
            server.awaitReady(T);
            Path config = CPrograms.config(dir, "mancom.services { " + tcp("echo", port) + " }");
            try (CProcess client = CPrograms.start(CPrograms.sample("echo_client"), config, List.of("echo", "hello, Java server"))) {
                assertThat(client.waitFor(T)).as(client.output()).isZero();
                assertThat(client.stdout()).containsExactly("hello, Java server");
            }
        }
    }

    @Test
    void cServerWithCClient() throws Exception {
        int port = CPrograms.freePort();
        Path config = CPrograms.config(dir, "mancom.services { " + tcp("echo", port) + " }");
        try (CProcess server = CPrograms.start(CPrograms.sample("echo_server"), config, List.of())) {
            server.awaitLine("serving", T);
            try (CProcess client = CPrograms.start(CPrograms.sample("echo_client"), config, List.of("echo", "C to C"))) {
                assertThat(client.waitFor(T)).as(client.output()).isZero();
                assertThat(client.stdout()).containsExactly("C to C");
            }
            assertThat(server.stop(T)).as(server.output()).isZero();
        }
    }

    @Test
    void pollServerServesTwoServicesToManyClients() throws Exception {
        int echo = CPrograms.freePort();
        int upper = CPrograms.freePort();
        String services = "mancom.services { " + tcp("echo", echo) + tcp("upper", upper) + " }";
        Path config = CPrograms.config(dir, services);
        try (CProcess server = CPrograms.start(CPrograms.sample("poll_server"), config, List.of());
             ManCom client = TestManCom.start(services)) {
            server.awaitLine("serving echo and upper", T);
            // several connections open at once, interleaved on both services
            try (BlockingConnection a = client.connect("echo", T);
                 BlockingConnection b = client.connect("upper", T);
                 BlockingConnection c = client.connect("upper", T)) {
                a.write("one".getBytes(StandardCharsets.US_ASCII));
                b.write("two".getBytes(StandardCharsets.US_ASCII));
                c.write("three".getBytes(StandardCharsets.US_ASCII));
                assertThat(readExactly(c, 5)).isEqualTo("THREE");
                assertThat(readExactly(a, 3)).isEqualTo("one");
                assertThat(readExactly(b, 3)).isEqualTo("TWO");
            }
            assertThat(new String(roundTrip(client, "upper", "again"), StandardCharsets.US_ASCII)).isEqualTo("AGAIN");
            assertThat(server.stop(T)).as(server.output()).isZero();
        }
    }

    private static String readExactly(BlockingConnection c, int len) throws IOException {
        byte[] b = new byte[len];
        int n = 0;
        while (n < len) {
            n += c.read(b, n, len - n, T);
        }
        return new String(b, StandardCharsets.US_ASCII);
    }

    /** Both ends' config: the service on a plain TCP link, or as a stream of a mux link. */
    private static String halfCloseServices(String service, int port, boolean mux) {
        return "mancom.services { " + service + " { endpoint = \"tcp://127.0.0.1:" + port + "\""
                + (mux ? ", mux = on" : "") + " } }";
    }

    @ParameterizedTest(name = "mux={0}")
    @ValueSource(booleans = {false, true})
    void cClientHalfClosesAndReadsTheJavaServersAnswer(boolean mux) throws Exception {
        int port = CPrograms.freePort();
        String services = halfCloseServices("count", port, mux);
        try (ManCom server = TestManCom.start(services)) {
            server.registerDataReceiver("count", new DataReceiver() {
                long count;

                @Override
                public void onData(Connection c, ByteBuffer data) {
                    count += data.remaining();
                }

                @Override
                public void onInputShutdown(Connection c) {
                    c.write(ByteBuffer.wrap(("got " + count).getBytes(StandardCharsets.US_ASCII)));
                    c.close();
                }
            });
            server.awaitReady(T);
            Path config = CPrograms.config(dir, services);
            try (CProcess client = CPrograms.start(CPrograms.test("half_close"), config, List.of("client", "count", "300000"))) {
                assertThat(client.waitFor(T)).as(client.output()).isZero();
                assertThat(client.stdout()).hasSize(2);
                assertThat(client.stdout().get(0)).startsWith("late write: mancom_write: connection #")
                        .endsWith("has shut down its output (mancom_shutdown_output): it can still read, not write");
                assertThat(client.stdout().get(1)).isEqualTo("reply=got 300000");
            }
        }
    }

    @ParameterizedTest(name = "mux={0}")
    @ValueSource(booleans = {false, true})
    void cServerAnswersAJavaClientThatHalfCloses(boolean mux) throws Exception {
        int port = CPrograms.freePort();
        String services = halfCloseServices("reply", port, mux);
        Path config = CPrograms.config(dir, services);
        try (CProcess server = CPrograms.start(CPrograms.test("half_close"), config, List.of("server", "reply"));
             ManCom client = TestManCom.start(services)) {
            server.awaitLine("serving 'reply'", T);
            try (BlockingConnection c = client.connect("reply", T)) {
                byte[] request = new byte[300_000];
                for (int i = 0; i < request.length; i++) {
                    request[i] = (byte) (i % 251);
                }
                c.write(request);
                c.shutdownOutput();
                byte[] answer = new byte[64];
                int n = 0;
                int r;
                while ((r = c.read(answer, n, answer.length - n, T)) > 0) {
                    n += r;
                }
                String got = new String(answer, 0, n, StandardCharsets.US_ASCII);
                if (!got.equals("got 300000")) {
                    server.waitFor(T); // all of its output, to say why
                }
                assertThat(got).as(server::output).isEqualTo("got 300000");
            }
            assertThat(server.waitFor(T)).as(server::output).isZero();
            assertThat(server.stdout()).contains("served 300000");
        }
    }

    /** mancom.h promises every connection its close callback, also when mancom_shutdown closes it. */
    @Test
    void shutdownWithOpenConnectionsDeliversEveryCloseEvent() throws Exception {
        int port = CPrograms.freePort();
        String services = "mancom.services { " + tcp("open", port) + " }";
        Path config = CPrograms.config(dir, services);
        try (CProcess server = CPrograms.start(CPrograms.test("shutdown_open"), config, List.of("open"));
             ManCom client = TestManCom.start(services)) {
            server.awaitLine("serving 'open'", T);
            List<BlockingConnection> open = new java.util.ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    BlockingConnection c = client.connect("open", T);
                    open.add(c);
                    c.write(new byte[]{(byte) i});
                    assertThat(readExactly(c, 1)).as("echo of connection %d", i).isEqualTo(String.valueOf((char) i));
                }
                // Every connection is open and has been served; SIGTERM makes the program call mancom_shutdown.
                assertThat(server.stop(T)).as(server::output).isZero();
                assertThat(server.stdout()).as(server::output).contains("accepted=3 closed=3");
                assertThat(server.output()).doesNotContain("no data receiver registered");
                for (BlockingConnection c : open) {
                    assertThat(c.read(new byte[1], T)).as("end of stream after the server's shutdown").isEqualTo(-1);
                }
            } finally {
                open.forEach(BlockingConnection::close);
            }
        }
    }

    @Test
    void connectAsyncAndTheCompatHeader() throws Exception {
        Path config = CPrograms.config(dir, "mancom.services { srv { endpoint = \"tcp://127.0.0.1:0\" }\n"
                + " refused { endpoint = \"tcp://127.0.0.1:1\" } }");
        try (CProcess p = CPrograms.start(CPrograms.test("async_compat"), config, List.of())) {
            assertThat(p.waitFor(T)).as(p.output()).isZero();
            assertThat(p.stdout()).anyMatch(l -> l.contains("got=hello, async"));
        }
    }
}
