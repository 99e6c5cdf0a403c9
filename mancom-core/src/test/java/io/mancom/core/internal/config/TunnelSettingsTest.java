package io.mancom.core.internal.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code handler = tunnel}: its settings, and what config check rejects at file, line and key. */
class TunnelSettingsTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    @Test
    void theFarServiceIsTheTunnelsOwnNameUnlessSet() {
        f.etcFile("mancom.services {",
                "  up { endpoint = \"tcp://10.0.0.1:9000\", mux = on, listen = off }",
                "  web { endpoint = \"tcp://127.0.0.1:8080\", handler = tunnel, via = up }",
                "  ssh { endpoint = \"tcp://127.0.0.1:2222\", handler = tunnel, via = up, tunnel.service = sshd }",
                "}");
        var services = f.load().services();

        assertThat(TunnelSettings.of(services.get("web"))).isEqualTo(new TunnelSettings("up", "web"));
        assertThat(TunnelSettings.of(services.get("ssh"))).isEqualTo(new TunnelSettings("up", "sshd"));
        assertThat(TunnelSettings.of(services.get("up"))).isNull();
    }

    @Test
    void viaIsRequiredAndMustNameAMuxService() {
        Path etc = f.etcFile("mancom.services {",
                "  plain { endpoint = \"tcp://10.0.0.1:9000\" }",
                "  a { endpoint = \"tcp://127.0.0.1:8080\", handler = tunnel }",
                "  b { endpoint = \"tcp://127.0.0.1:8081\", handler = tunnel, via = nowhere }",
                "  c { endpoint = \"tcp://127.0.0.1:8082\", handler = tunnel, via = plain }",
                "  d { endpoint = \"tcp://127.0.0.1:8083\", handler = tunnel, via = d }",
                "}");

        List<String> m = PortPlanTest.messages(f.fails());

        assertThat(m).anyMatch(s -> s.startsWith(etc + ":3: mancom.services.a.via: found no uplink but handler = tunnel"
                + " needs one"));
        assertThat(m).anyMatch(s -> s.startsWith(etc + ":4: mancom.services.b.via: found \"nowhere\" but expected the"
                + " name of a configured service with mux = on"));
        assertThat(m).anyMatch(s -> s.startsWith(etc + ":5: mancom.services.c.via: found \"plain\" but service 'plain'"
                + " has mux = off"));
        assertThat(m).anyMatch(s -> s.startsWith(etc + ":6: mancom.services.d.via: found \"d\" but a tunnel cannot be"
                + " its own uplink"));
    }
}
