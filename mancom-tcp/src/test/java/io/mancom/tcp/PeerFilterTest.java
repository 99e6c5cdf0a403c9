package io.mancom.tcp;

import io.mancom.tcp.internal.PeerFilterProgram;
import io.mancom.tcp.internal.SocketFilter;
import io.mancom.core.spi.TcpSettings;
import io.mancom.core.spi.Settings;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** tcp.allow / tcp.deny on real loopback sockets: the kernel filter on the listener. */
class PeerFilterTest {
    @TempDir
    Path tmp;

    @org.junit.jupiter.api.BeforeEach
    void needsSocketFilters() {
        // Skipped where the kernel filter cannot exist (not Linux); on CI it must, so it fails there.
        assumeTrue(SocketFilter.unavailable() == null || "true".equals(System.getenv("CI")),
                "socket filters need Linux and JNA: " + SocketFilter.unavailable());
    }

    @Test
    void aRefusedPeerGetsNoConnectionWhileAnAllowedOneEchoesAndTheFilterIsAttached() throws Exception {
        try (GuardFixture f = GuardFixture.echo(tmp, "allow = [\"127.0.0.1/32\"]", (c, d) -> c.write(d))) {
            // The filter is on the listening socket: the kernel gives the attached program back.
            int fd = GuardFixture.listenerFd(f.port);
            TcpSettings tcp = TcpSettings.from(Settings.of(ConfigFactory.parseString(
                    "tcp { backlog = 1, no-delay = on, keep-alive = off, max-connections = 0, "
                            + "max-connections-per-peer = 0, idle-timeout = off, read-timeout = off, "
                            + "allow = [\"127.0.0.1/32\"], deny = [] }"), "test"));
            assertThat(SocketFilter.attachedLength(fd)).isEqualTo(PeerFilterProgram.of(tcp).length());

            assertThat(f.served("127.0.0.1")).isTrue();
            // 127.0.0.2's SYN is dropped: no SYN-ACK, so connect does not complete (no reset either).
            f.assertSynDropped("127.0.0.2");
            // The process never saw it: nothing refused after accept, one connection accepted (the good one).
            assertThat(f.refused().path("denied").asLong()).isZero();
            assertThat(f.mancom.status().services().stream().filter(s -> s.name().equals("echo")).findFirst()
                    .orElseThrow().acceptedTotal()).isEqualTo(1);
        }
    }

    @Test
    void denyWinsOverAllowAndTheKernelDropsTheDeniedPeer() throws Exception {
        try (GuardFixture f = GuardFixture.echo(tmp, "allow = [\"127.0.0.0/8\"], deny = [\"127.0.0.3\"]",
                (c, d) -> c.write(d))) {
            assertThat(f.served("127.0.0.2")).isTrue();
            f.assertSynDropped("127.0.0.3");
        }
    }

    @Test
    void aDualStackListenerFiltersIpv4PeersByTheirMappedAddresses() throws IOException {
        // Bound to ::, IPv4 peers arrive as IPv4 packets on an IPv6 socket; the rule is written mapped.
        try (GuardFixture f = GuardFixture.echo(tmp, "tcp://[::]:0", "allow = [\"::ffff:127.0.0.1/128\", \"::1/128\"]",
                (c, d) -> c.write(d))) {
            assertThat(f.served("127.0.0.1")).isTrue();
            f.assertSynDropped("127.0.0.2");
            // IPv6 peers on the same socket: ::1 is let in, and the filter reads their IPv6 source.
            assertThat(f.served("::1")).isTrue();
        }
    }

    @Test
    void anIpv6PeerOutsideTheBlocksIsDroppedByTheKernel() throws IOException {
        try (GuardFixture f = GuardFixture.echo(tmp, "tcp://[::]:0", "allow = [\"127.0.0.1/32\"]", (c, d) -> c.write(d))) {
            assertThat(f.served("127.0.0.1")).isTrue();
            f.assertSynDropped("::1"); // the program's IPv6 part: no block holds ::1
        }
    }
}
