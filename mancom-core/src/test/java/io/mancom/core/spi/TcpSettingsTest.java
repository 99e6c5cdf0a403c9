package io.mancom.core.spi;

import io.mancom.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tcp block: limits, timeouts and address blocks, validated where the file says them. */
class TcpSettingsTest {
    @TempDir
    Path dir;

    private RuntimeSettings load(String text) throws IOException {
        Path file = dir.resolve("mancom.conf");
        Files.writeString(file, text);
        return ConfigTools.loadFile(file);
    }

    @Test
    void defaultsAreNoLimitsNoTimeoutsEveryPeer() throws IOException {
        TcpSettings tcp = TcpSettings.of(load("mancom.services.x.endpoint = \"tcp://127.0.0.1:0\"\n").services().get("x"));
        assertThat(tcp.maxConnections()).isZero();
        assertThat(tcp.maxConnectionsPerPeer()).isZero();
        assertThat(tcp.idleTimeout()).isZero();
        assertThat(tcp.readTimeout()).isZero();
        assertThat(tcp.filtersPeers()).isFalse();
        assertThat(tcp.backlog()).isEqualTo(1024);
    }

    @Test
    void valuesFromAServiceAndFromTheDefaults() throws IOException {
        RuntimeSettings s = load("""
                mancom.defaults.tcp.max-connections-per-peer = 8
                mancom.services.x {
                  endpoint = "tcp://127.0.0.1:0"
                  tcp { max-connections = 100, idle-timeout = 30s, read-timeout = 5s
                        allow = ["127.0.0.1/32", "10.0.0.0/8", "::1/128"], deny = ["10.9.0.0/16"] }
                }
                """);
        TcpSettings tcp = TcpSettings.of(s.services().get("x"));
        assertThat(tcp.maxConnections()).isEqualTo(100);
        assertThat(tcp.maxConnectionsPerPeer()).isEqualTo(8);
        assertThat(tcp.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(tcp.readTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(tcp.allow()).extracting(AddressBlock::toString).containsExactly("127.0.0.1/32", "10.0.0.0/8", "::1/128");
        assertThat(tcp.admits(InetAddress.getByName("10.1.2.3"))).isTrue();
        assertThat(tcp.admits(InetAddress.getByName("10.9.2.3"))).isFalse(); // deny wins
        assertThat(tcp.admits(InetAddress.getByName("192.168.1.1"))).isFalse();
        assertThat(tcp.admits(InetAddress.getByName("::1"))).isTrue();
        assertThat(tcp.admits(InetAddress.getByName("::2"))).isFalse();
    }

    @Test
    void badValuesNameFileLineAndKey() {
        assertThatThrownBy(() -> load("mancom.services.x {\n  endpoint = \"tcp://127.0.0.1:0\"\n"
                + "  tcp.allow = [\"10.0.0.0/33\"]\n}\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("mancom.conf:3")
                .hasMessageContaining("mancom.services.x.tcp.allow")
                .hasMessageContaining("prefix /33 is longer than an IPv4 address");
        assertThatThrownBy(() -> load("mancom.services.x {\n  endpoint = \"tcp://127.0.0.1:0\"\n"
                + "  tcp.deny = [\"example.com\"]\n}\n"))
                .hasMessageContaining("mancom.conf:3").hasMessageContaining("not a numeric IPv4 or IPv6 address");
        assertThatThrownBy(() -> load("mancom.services.x {\n  endpoint = \"tcp://127.0.0.1:0\"\n"
                + "  tcp.max-connections = -1\n}\n"))
                .hasMessageContaining("mancom.conf:3").hasMessageContaining("tcp.max-connections");
        assertThatThrownBy(() -> load("mancom.services.x {\n  endpoint = \"tcp://127.0.0.1:0\"\n"
                + "  tcp.idle-timeout = soon\n}\n"))
                .hasMessageContaining("mancom.conf:3").hasMessageContaining("tcp.idle-timeout");
        // Unknown keys are the transport's to reject, when it binds (ConfigLoaderErrorsTest).
        assertThatThrownBy(() -> TcpSettings.of(load("mancom.services.x {\n  endpoint = \"tcp://127.0.0.1:0\"\n"
                + "  tcp.max-conections = 5\n}\n").services().get("x")))
                .hasMessageContaining("mancom.conf:3").hasMessageContaining("did you mean \"max-connections\"");
        assertThatThrownBy(() -> load("mancom.services.x {\n  endpoint = \"tcp://127.0.0.1:0\"\n"
                + "  tcp.allow = \"10.0.0.0/8\"\n}\n"))
                .hasMessageContaining("mancom.conf:3").hasMessageContaining("expected a list of address blocks");
        assertThatThrownBy(() -> load("mancom.defaults.mux.open-timeout = 0s\n"))
                .hasMessageContaining("mancom.conf:1").hasMessageContaining("open-timeout");
    }

    @Test
    void addressBlocksShareOneSpaceWithIpv4Mapped() throws Exception {
        AddressBlock v4 = AddressBlock.parse("10.0.0.0/8");
        AddressBlock mapped = AddressBlock.parse("::ffff:10.0.0.0/104");
        assertThat(v4).isEqualTo(mapped);
        assertThat(v4.v4Prefix()).isEqualTo(8);
        assertThat(v4.v4Address()).isEqualTo(0x0a000000L);
        assertThat(v4.holdsIpv6()).isFalse();
        assertThat(AddressBlock.parse("::/0").contains(InetAddress.getByName("192.0.2.1"))).isTrue();
        assertThat(AddressBlock.parse("::/0").v4Prefix()).isZero();
        assertThat(AddressBlock.parse("::1/128").v4Prefix()).isEqualTo(-1);
        assertThat(AddressBlock.parse("::1/128").contains(InetAddress.getByName("0.0.0.1"))).isFalse();
        assertThat(AddressBlock.parse("127.0.0.1").prefix()).isEqualTo(128);
        assertThat(AddressBlock.parse("10.1.2.3/8").contains(InetAddress.getByName("10.200.0.1"))).isTrue();
        assertThatThrownBy(() -> AddressBlock.parse("::1/129")).hasMessageContaining("longer than an IPv6 address");
        assertThatThrownBy(() -> AddressBlock.parse("10.0.0.0/x")).hasMessageContaining("not a prefix length");
        assertThatThrownBy(() -> AddressBlock.parse("")).hasMessageContaining("not a numeric");
        assertThatThrownBy(() -> AddressBlock.parse("300.1.1.1")).hasMessageContaining("300 > 255"); // never a DNS name
        assertThatThrownBy(() -> AddressBlock.parse("1::2::3")).hasMessageContaining("not a valid IPv6 address");
    }
}
