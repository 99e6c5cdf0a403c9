package io.mancom.tcp;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Writes keep the order in which {@code write} was called, whichever threads call it: a write on
 * the event loop does not overtake one that another thread made before it.
 */
class WriteOrderTest {
    private static final Duration T = Duration.ofSeconds(10);
    private ManCom mancom;

    @AfterEach
    void close() {
        if (mancom != null) {
            mancom.close();
        }
    }

    @Test
    void aWriteOnTheLoopStaysBehindAnEarlierWriteFromAnotherThread() throws Exception {
        mancom = TestManCom.start("mancom.services.sink.endpoint = \"tcp://127.0.0.1:0\"");
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        CompletableFuture<String> two = new CompletableFuture<>();
        // The first byte wakes the client's onData below.
        mancom.registerAcceptor("sink", c -> c.write("x".getBytes(StandardCharsets.US_ASCII)));
        mancom.registerDataReceiver("sink", new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                synchronized (got) {
                    while (data.hasRemaining()) {
                        got.write(data.get());
                    }
                    if (got.size() >= 2) {
                        two.complete(got.toString(StandardCharsets.US_ASCII));
                    }
                }
            }
        });
        mancom.awaitReady(T);

        CountDownLatch onLoop = new CountDownLatch(1);
        CountDownLatch firstWritten = new CountDownLatch(1);
        CompletableFuture<Connection> client = new CompletableFuture<>();
        Connection c = mancom.connectAsync("sink", new DataReceiver() {
            @Override
            public void onData(Connection conn, ByteBuffer data) {
                // On the connection's event loop: hold it until the main thread has written "A",
                // which from off the loop waits in the loop's task queue; then write "B" here.
                onLoop.countDown();
                try {
                    assertThat(firstWritten.await(10, TimeUnit.SECONDS)).isTrue();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                client.join().write("B".getBytes(StandardCharsets.US_ASCII));
            }
        }).get(10, TimeUnit.SECONDS);
        client.complete(c);

        assertThat(onLoop.await(10, TimeUnit.SECONDS)).isTrue();
        c.write("A".getBytes(StandardCharsets.US_ASCII));
        firstWritten.countDown();

        assertThat(two.get(10, TimeUnit.SECONDS)).isEqualTo("AB");
    }
}
