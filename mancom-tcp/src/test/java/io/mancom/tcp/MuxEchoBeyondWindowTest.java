package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One mux stream echoing many receive windows in one write, through a served callback echo: the
 * server's stream pauses its reading whenever its echo fills its write queue and resumes when the
 * flush at the end of the batch drains it. Regression test for a stall: that resumption came from
 * inside the stream's delivery and was lost, so the bytes still queued in the stream were never
 * delivered, their credit never returned, and the sender waited forever.
 */
class MuxEchoBeyondWindowTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final long S = 30;
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }

    /** Starts a mux echo server; returns a mux client of it, over loopback TCP. */
    private ManCom clientOfAnEchoServer() throws Exception {
        ManCom server = runtimes.start("mancom.services.echo { endpoint = \"tcp://127.0.0.1:0\", mux = on }");
        server.registerDataReceiver("echo", (conn, data) -> conn.write(data));
        server.awaitReady(T);
        int port = ((TcpAddress) server.boundEndPoint("echo").orElseThrow().address()).port();
        ManCom client = runtimes.start("mancom.services.echo { endpoint = \"tcp://127.0.0.1:" + port + "\", mux = on }");
        return client;
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {300_000, 4 * 1024 * 1024})
    void aBlockingClientGetsBackOneBigWriteWhileAnotherThreadReads(int size) throws Exception {
        ManCom client = clientOfAnEchoServer();
        byte[] payload = EchoTest.randomBytes(size, 9);
        try (BlockingConnection c = client.connect("echo")) {
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                try {
                    return EchoTest.readExactly(c, payload.length);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            c.write(payload);
            assertThat(back.get(S, TimeUnit.SECONDS)).isEqualTo(payload);
        }
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {300_000, 4 * 1024 * 1024})
    void aCallbackClientGetsBackOneBigWrite(int size) throws Exception {
        ManCom client = clientOfAnEchoServer();
        byte[] payload = EchoTest.randomBytes(size, 11);
        CompletableFuture<byte[]> back = new CompletableFuture<>();
        Connection c = client.connectAsync("echo", collector(size, back)).get(S, TimeUnit.SECONDS);
        try {
            c.write(ByteBuffer.wrap(payload)).toCompletableFuture().get(S, TimeUnit.SECONDS);
            assertThat(back.get(S, TimeUnit.SECONDS)).isEqualTo(payload);
        } finally {
            c.close();
        }
    }

    /** Collects {@code expected} bytes (copied out of each callback's buffer), then completes {@code done}. */
    static DataReceiver collector(int expected, CompletableFuture<byte[]> done) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        return new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                got.write(b, 0, b.length);
                if (got.size() >= expected) {
                    done.complete(got.toByteArray());
                }
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                done.completeExceptionally(new AssertionError("closed after " + got.size() + " of " + expected
                        + " bytes", cause));
            }
        };
    }
}
