package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Blocking writes from one thread are handed to the event loop in batches (BlockingWriter): many
 * small writes followed at once by close() or shutdownOutput() must still arrive whole and in
 * order, before the end of stream. Real loopback sockets.
 */
@Timeout(60)
class BlockingWritesTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final int WRITES = 20_000;
    private static final int SIZE = 101;

    @Test
    void manySmallWritesThenCloseArriveInOrder() throws Exception {
        check(false);
    }

    @Test
    void manySmallWritesThenShutdownOutputArriveInOrder() throws Exception {
        check(true);
    }

    private static void check(boolean halfClose) throws Exception {
        try (ManCom server = TestManCom.start("mancom.services { sink { endpoint = \"tcp://127.0.0.1:0\" } }")) {
            int port = ((TcpAddress) server.listen("sink", T).address()).port();
            try (ManCom client = TestManCom.start("mancom.services { sink { endpoint = \"tcp://127.0.0.1:" + port + "\" } }")) {
                BlockingConnection c = client.connect("sink", T);
                BlockingConnection s = server.accept("sink", T);
                CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                    long at = 0;
                    byte[] buf = new byte[8192];
                    try (s) {
                        for (int n; (n = s.read(buf, T)) >= 0; ) {
                            for (int i = 0; i < n; i++, at++) {
                                if (buf[i] != (byte) (at % 251)) {
                                    throw new AssertionError("byte " + at + " is out of order");
                                }
                            }
                        }
                    } catch (java.io.IOException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                    return at;
                });
                byte[] msg = new byte[SIZE];
                long at = 0;
                for (int k = 0; k < WRITES; k++) {
                    for (int i = 0; i < SIZE; i++, at++) {
                        msg[i] = (byte) (at % 251);
                    }
                    c.write(msg);
                }
                if (halfClose) {
                    c.shutdownOutput();
                }
                c.close();
                assertThat(received.get(T.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).isEqualTo((long) WRITES * SIZE);
            }
        }
    }
}
