package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.core.internal.BlockingHooks;
import io.mancom.testkit.Await;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Core's "stop listening" for a blocking service ({@link BlockingHooks#stopListening}, what the C
 * API's mancom_close on a listener does), over real loopback sockets.
 */
@Timeout(60)
class StopListeningTest {
    private static final Duration T = Duration.ofSeconds(20);

    @Test
    void endsWaitingAcceptsClosesConnectionsAndFreesTheService() throws Exception {
        try (ManCom server = TestManCom.start("mancom.services { echo { endpoint = \"tcp://127.0.0.1:0\" } }")) {
            int port = ((TcpAddress) server.listen("echo", T).address()).port();
            try (ManCom client = TestManCom.start("mancom.services { echo { endpoint = \"tcp://127.0.0.1:" + port + "\" } }");
                 BlockingConnection c = client.connect("echo", T);
                 BlockingConnection accepted = server.accept("echo", T)) {
                AtomicReference<Thread> acceptor = new AtomicReference<>();
                CompletableFuture<BlockingConnection> waiting = CompletableFuture.supplyAsync(() -> {
                    acceptor.set(Thread.currentThread());
                    try {
                        return server.accept("echo", T);
                    } catch (java.io.IOException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
                Await.until("a second accept waits", () -> acceptor.get() != null
                        && acceptor.get().getState() == Thread.State.TIMED_WAITING);

                BlockingHooks.stopListening(server, "echo");

                assertThatThrownBy(() -> waiting.get(T.toSeconds(), TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause().isInstanceOfSatisfying(ManComException.class,
                                e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.CLOSED));
                assertThat(c.read(new byte[1], T)).as("the accepted connection was closed").isEqualTo(-1);
                assertThat(accepted.read(new byte[1], T)).isEqualTo(-1);
                assertThat(server.boundEndPoint("echo")).as("no longer listening").isEmpty();
                // The service is free again: it may be served with callbacks now.
                server.registerDataReceiver("echo", (conn, data) -> conn.write(data)).close();
            }
        }
    }
}
