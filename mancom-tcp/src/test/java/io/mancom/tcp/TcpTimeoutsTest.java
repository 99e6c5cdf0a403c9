package io.mancom.tcp;

import io.mancom.ManComException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** tcp.idle-timeout and tcp.read-timeout: each closes with a cause of its own that onClose gets. */
class TcpTimeoutsTest {
    @TempDir
    Path tmp;

    @Test
    void aSilentClientIsClosedByTheReadTimeoutEvenWhileTheServerWrites() throws Exception {
        GuardFixture.Echo closes = new GuardFixture.Echo();
        try (GuardFixture f = GuardFixture.echo(tmp, "read-timeout = 1s", closes)) {
            // The server writes at once, on the loop: writing does not keep a read timeout away.
            f.mancom.registerAcceptor("echo", c -> c.write(ByteBuffer.wrap(new byte[] {1})));
            try (Socket s = f.connect("127.0.0.1")) {
                Throwable cause = closes.nextClose();
                assertThat(cause).isInstanceOf(ManComException.class);
                assertThat(((ManComException) cause).reason()).isEqualTo(ManComException.Reason.READ_TIMEOUT);
                assertThat(cause).hasMessageContaining("tcp.read-timeout");
                InputStream in = s.getInputStream();
                assertThat(in.read()).isEqualTo(1);
                assertThat(in.read()).isEqualTo(-1); // and the client sees the close
            }
        }
    }

    @Test
    void aConnectionWithNoTrafficIsClosedByTheIdleTimeoutAndTrafficKeepsItOpen() throws Exception {
        GuardFixture.Echo closes = new GuardFixture.Echo();
        try (GuardFixture f = GuardFixture.echo(tmp, "idle-timeout = 1s", closes)) {
            try (Socket s = f.connect("127.0.0.1")) {
                // Traffic keeps it open: a round trip every 100 ms for three times the timeout
                // (the pause paces the traffic; nothing waits on it for ordering).
                long end = System.nanoTime() + 3_000_000_000L;
                while (System.nanoTime() < end) {
                    assertThat(GuardFixture.echoes(s)).isTrue();
                    assertThat(closes.closed).isEmpty();
                    Thread.sleep(100);
                }
                Throwable cause = closes.nextClose();
                assertThat(((ManComException) cause).reason()).isEqualTo(ManComException.Reason.IDLE_TIMEOUT);
                assertThat(cause).hasMessageContaining("tcp.idle-timeout");
                assertThat(s.getInputStream().read()).isEqualTo(-1);
            }
            assertThat(f.mancom.status().services().get(0).errors())
                    .containsEntry(ManComException.Reason.IDLE_TIMEOUT, 1L);
        }
    }

    @Test
    void anIdleMuxLinkEndsItsStreamsWithTheIdleTimeoutAsTheirCause() throws Exception {
        try (io.mancom.testkit.TestRuntimes runtimes = new io.mancom.testkit.TestRuntimes()) {
            GuardFixture.Echo served = new GuardFixture.Echo();
            io.mancom.ManCom server = runtimes.start("mancom.services.echo { endpoint = \"tcp://127.0.0.1:0\", mux = on }\n"
                    + "mancom.services.echo.tcp.idle-timeout = 1s\n");
            server.registerDataReceiver("echo", served);
            server.awaitReady(java.time.Duration.ofSeconds(10));
            io.mancom.ManCom client = runtimes.start("mancom.services.echo { endpoint = \""
                    + server.boundEndPoint("echo").orElseThrow() + "\", mux = on }\n");
            java.util.concurrent.CompletableFuture<Throwable> clientClosed = new java.util.concurrent.CompletableFuture<>();
            io.mancom.Connection c = client.connectAsync("echo", new io.mancom.DataReceiver() {
                @Override
                public void onData(io.mancom.Connection conn, java.nio.ByteBuffer data) {
                    // the echo comes back once; then both sides are silent
                }

                @Override
                public void onClose(io.mancom.Connection conn, Throwable cause) {
                    clientClosed.complete(cause);
                }
            }).get(10, java.util.concurrent.TimeUnit.SECONDS);
            c.write(new byte[] {1});
            // The stream's onClose on the server gets the link's cause, with its reason.
            Throwable cause = served.nextClose();
            assertThat(((ManComException) cause).reason()).isEqualTo(ManComException.Reason.IDLE_TIMEOUT);
            clientClosed.get(30, java.util.concurrent.TimeUnit.SECONDS); // and the client's stream ends with its link
        }
    }
}
