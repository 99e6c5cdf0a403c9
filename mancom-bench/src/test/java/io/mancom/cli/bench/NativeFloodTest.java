package io.mancom.cli.bench;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native flood generator of {@code bench flood} makes real connection attempts from 127.0.0.2,
 * each from a new port although it reuses its sockets, and counts the handshakes that completed:
 * against a plain listening socket on 127.0.0.1 (no filter) they are accepted.
 */
class NativeFloodTest {

    @Test
    void attemptsAreRealConnectionsFrom127002OnMorePortsThanItHasSockets() throws Exception {
        String why = NativeFlood.unavailable();
        assumeTrue(why == null || "true".equals(System.getenv("CI")), "native flooder unavailable: " + why);
        assertThat(why).isNull();
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress("127.0.0.1", 0), 1024);
            server.setSoTimeout(10_000);
            Set<Integer> ports = new HashSet<>();
            NativeFlood flood = new NativeFlood(server.getLocalPort(), 2_000);
            try (flood) {
                // More connections than the flooder has sockets: some sockets are on their second attempt.
                while (ports.size() < 300) {
                    try (Socket s = server.accept()) {
                        assertThat(s.getInetAddress()).isEqualTo(InetAddress.getByName("127.0.0.2"));
                        ports.add(s.getPort());
                    }
                }
                while (flood.completed.sum() == 0) {
                    Thread.onSpinWait(); // counted when a socket comes round again (256 attempts later)
                }
            }
            // Read once the thread has ended: it counts an attempt after its connect returns.
            assertThat(flood.attempts.get()).isGreaterThanOrEqualTo(300);
            assertThat(flood.failed.sum()).isZero();
        }
    }
}
