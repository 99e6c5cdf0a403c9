package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.AfterEach;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Half-close through the API, on plain TCP and on a mux stream: the side that finished writing
 * still gets the answer, in both directions.
 */
class HalfCloseTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }


    private static String service(String endpoint, boolean mux) {
        return "mancom.services.count { endpoint = \"" + endpoint + "\", mux = " + (mux ? "on" : "off") + " }";
    }

    @ParameterizedTest(name = "mux {0}")
    @ValueSource(booleans = {false, true})
    void aClientThatFinishedWritingStillGetsTheAnswer(boolean mux) throws Exception {
        ManCom server = runtimes.start(service("tcp://127.0.0.1:0", mux));
        // Counts what it gets; answers only when the client has finished writing.
        server.registerDataReceiver("count", new DataReceiver() {
            long n;

            @Override
            public void onData(Connection c, ByteBuffer data) {
                n += data.remaining();
            }

            @Override
            public void onInputShutdown(Connection c) {
                c.write(("got " + n).getBytes(StandardCharsets.UTF_8));
                c.close();
            }
        });
        server.awaitReady(T);
        EndPoint bound = server.boundEndPoint("count").orElseThrow();
        ManCom client = runtimes.start(service(bound.toString(), mux));
        try (BlockingConnection c = client.connect("count")) {
            c.write(new byte[100_000]);
            c.shutdownOutput();
            assertThatThrownBy(() -> c.write(new byte[1])).isInstanceOf(ManComException.class)
                    .hasMessageContaining("has shut down its output (shutdownOutput): it can still read, not write");
            assertThat(new String(readToEnd(c), StandardCharsets.UTF_8)).isEqualTo("got 100000");
        }
    }

    @ParameterizedTest(name = "mux {0}")
    @ValueSource(booleans = {false, true})
    void aBlockingServerReadsToTheEndThenAnswers(boolean mux) throws Exception {
        ManCom server = runtimes.start(service("tcp://127.0.0.1:0", mux));
        EndPoint bound = server.listen("count", T);
        CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
            try (BlockingConnection s = server.accept("count", T)) {
                int n = readToEnd(s).length;
                s.write(("got " + n).getBytes(StandardCharsets.UTF_8));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        ManCom client = runtimes.start(service(bound.toString(), mux));
        CompletableFuture<String> answer = new CompletableFuture<>();
        Connection c = client.connectAsync("count", new DataReceiver() {
            final ByteArrayOutputStream got = new ByteArrayOutputStream();

            @Override
            public void onData(Connection conn, ByteBuffer data) {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                got.write(b, 0, b.length);
            }

            @Override
            public void onClose(Connection conn, Throwable cause) {
                answer.complete(got.toString(StandardCharsets.UTF_8));
            }
        }).get(10, TimeUnit.SECONDS);
        c.write(new byte[12_345]);
        c.shutdownOutput().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(c.write(new byte[1]).toCompletableFuture()).failsWithin(Duration.ZERO)
                .withThrowableOfType(ExecutionException.class).havingCause()
                .withMessageContaining("has shut down its output (shutdownOutput): it can still read, not write");
        assertThat(answer.get(10, TimeUnit.SECONDS)).isEqualTo("got 12345");
        served.get(10, TimeUnit.SECONDS);
    }

    static byte[] readToEnd(BlockingConnection c) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = c.read(buf, T)) > 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }
}
