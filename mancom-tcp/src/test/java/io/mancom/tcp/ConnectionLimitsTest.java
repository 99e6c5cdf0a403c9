package io.mancom.tcp;

import io.mancom.testkit.Await;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** tcp.max-connections and tcp.max-connections-per-peer on real loopback sockets. */
class ConnectionLimitsTest {
    @TempDir
    Path tmp;

    @Test
    void twoThousandConnectionsAgainstAHundredServeExactlyAHundredAndTheNextOnceOneLeaves() throws Exception {
        GuardFixture.Echo echo = new GuardFixture.Echo();
        try (GuardFixture f = GuardFixture.echo(tmp, "max-connections = 100, backlog = 4096", echo)) {
            List<Socket> clients = new ArrayList<>();
            try {
                int refused = 0;
                for (int i = 0; i < 2000; i++) {
                    try {
                        clients.add(f.connect("127.0.0.1"));
                    } catch (java.net.SocketException e) {
                        refused++; // reset before connect returned: refused (the first 100 never are)
                    }
                }
                // The server accepts in order: the first 100 are served, every later one is closed at once.
                List<Socket> served = new ArrayList<>();
                for (Socket s : clients) {
                    if (GuardFixture.echoes(s)) {
                        served.add(s);
                    } else {
                        refused++;
                    }
                }
                assertThat(served).hasSize(100);
                assertThat(refused).isEqualTo(1900);
                assertThat(served).containsExactlyElementsOf(clients.subList(0, 100));
                assertThat(f.served("127.0.0.1")).isFalse(); // still full
                assertThat(f.refused().path("max-connections").asLong()).isEqualTo(1901);
                assertThat(f.metrics()).contains("mancom_refused_total{cause=\"max-connections\",service=\"echo\"} 1901.0");
                // One leaves; once the server has closed its side, a newcomer is served.
                served.get(0).close();
                echo.nextClose();
                assertThat(f.served("127.0.0.1")).isTrue();
            } finally {
                for (Socket s : clients) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aPeerPastItsLimitIsRefusedWhileAnotherAddressIsServed() throws Exception {
        GuardFixture.Echo echo = new GuardFixture.Echo();
        try (GuardFixture f = GuardFixture.echo(tmp, "max-connections-per-peer = 3", echo);
             GuardFixture.Clients clients = new GuardFixture.Clients()) {
            f.servedEach(clients, "127.0.0.1", 3);
            assertThat(f.served("127.0.0.1")).isFalse();
            // Another address has a limit of its own.
            f.servedEach(clients, "127.0.0.2", 3);
            assertThat(f.served("127.0.0.2")).isFalse();
            assertThat(f.refused().path("max-connections-per-peer").asLong()).isEqualTo(2);
            // 127.0.0.1 leaves one slot: served again.
            clients.remove(0).close();
            echo.nextClose();
            assertThat(f.served("127.0.0.1")).isTrue();
        }
    }

    @Test
    void withoutKernelFilteringTheRuleRunsAfterAcceptAndCounts() throws Exception {
        // Where the kernel cannot filter (NIO, other systems) the same rule runs right after accept.
        System.setProperty("io.mancom.tcp.kernelFilter", "false");
        try (GuardFixture f = GuardFixture.echo(tmp, "deny = [\"127.0.0.2/32\"]", new GuardFixture.Echo())) {
            assertThat(f.served("127.0.0.2")).isFalse();
            assertThat(f.served("127.0.0.1")).isTrue();
            Await.until("the refusal counted", () -> {
                try {
                    return f.refused().path("denied").asLong() == 1;
                } catch (java.io.IOException e) {
                    return false;
                }
            });
        } finally {
            System.clearProperty("io.mancom.tcp.kernelFilter");
        }
    }
}
