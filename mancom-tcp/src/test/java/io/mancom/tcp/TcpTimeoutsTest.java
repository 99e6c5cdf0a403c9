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
}
