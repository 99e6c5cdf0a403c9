package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.EndPoint;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Ports shared by match: the plan, its order, and every rule config check rejects, with file, line and key. */
class PortPlanTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    /** The message of {@code e} and of each problem suppressed in it (config check reports them all). */
    static List<String> messages(ConfigException e) {
        List<String> all = new java.util.ArrayList<>();
        all.add(e.getMessage());
        Arrays.stream(e.getSuppressed()).forEach(t -> all.add(t.getMessage()));
        return all;
    }

    @Test
    void servicesWithMatchShareThePortInConfigOrderWithTheSniffValuesWritten() {
        f.etcFile("mancom.services {",
                "  zeta { endpoint = \"tcp://127.0.0.1:8443\", match { tls { sni = [z.example] } } }",
                "  alpha { endpoint = \"tcp://127.0.0.1:8443\", match { prefix = \"SSH-\" }, sniff.on-timeout = alpha }",
                "  web { endpoint = \"tcp://127.0.0.1:8443\", match = any, sniff.timeout = 2s }",
                "  plain { endpoint = \"tcp://127.0.0.1:0\", match = http1 }",
                "}");

        List<PortPlan.SharedPort> ports = ServicePlan.of(f.load()).sharedPorts();

        assertThat(ports).hasSize(2);
        PortPlan.SharedPort p = ports.get(1);
        assertThat(p.endpoint()).isEqualTo(EndPoint.parse("tcp://127.0.0.1:8443"));
        assertThat(p.members()).containsExactly("zeta", "alpha", "web"); // lines, not names
        assertThat(p.rules()).extracting(MatchRule::kind)
                .containsExactly(MatchRule.Kind.TLS, MatchRule.Kind.PREFIX, MatchRule.Kind.ANY);
        assertThat(p.sniff()).isEqualTo(new PortPlan.Sniff(16384, Duration.ofSeconds(2), "alpha"));
        // A single service with a match on port 0: a port of its own, sniffed.
        assertThat(ports.get(0).members()).containsExactly("plain");
    }

    @Test
    void aRuleAfterTheFallbackCanNeverMatch() {
        Path etc = f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:8443\", match = any }",
                "  b { endpoint = \"tcp://127.0.0.1:8443\", match = http1 }",
                "}");

        assertThat(f.fails().getMessage()).isEqualTo(etc + ":3: mancom.services.b.match: 'b' can never be chosen: its"
                + " match http1 comes after 'a' (" + etc + ":2) whose match any takes every connection it would; move it"
                + " before, or remove it");
    }

    @Test
    void twoFallbacksDuplicatesAndShadowedPrefixesAndTlsRules() {
        Path etc = f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:8443\", match { prefix = \"SSH\" } }",
                "  b { endpoint = \"tcp://127.0.0.1:8443\", match { prefix = \"SSH-2.0\" } }",
                "  c { endpoint = \"tcp://127.0.0.1:8443\", match { tls { alpn = [h2] } } }",
                "  d { endpoint = \"tcp://127.0.0.1:8443\", match { tls { sni = [x.example], alpn = [h2] } } }",
                "  e { endpoint = \"tcp://127.0.0.1:8443\", match = http2 }",
                "  f { endpoint = \"tcp://127.0.0.1:8443\", match = http2 }",
                "  g { endpoint = \"tcp://127.0.0.1:8443\", match = any }",
                "  h { endpoint = \"tcp://127.0.0.1:8443\", match = any }",
                "}");

        List<String> m = messages(f.fails());

        assertThat(m).hasSize(4);
        assertThat(m.get(0)).startsWith(etc + ":3: mancom.services.b.match: 'b' can never be chosen: its match prefix = \"SSH-2.0\"");
        assertThat(m.get(1)).startsWith(etc + ":5: mancom.services.d.match: 'd' can never be chosen");
        assertThat(m.get(2)).startsWith(etc + ":7: mancom.services.f.match: 'f' can never be chosen: its match http2");
        assertThat(m.get(3)).isEqualTo(etc + ":9: mancom.services.h.match: a second fallback (match = any) on"
                + " tcp://127.0.0.1:8443: 'g' (" + etc + ":8) is the port's fallback already; keep one");
    }

    @Test
    void sharingWithoutMatchMuxOnAndBadValuesAreNamed() {
        Path etc = f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:8443\", match = http1 }",
                "  b {",
                "    endpoint = \"tcp://127.0.0.1:8443\"",
                "  }",
                "  c { endpoint = \"tcp://127.0.0.1:8444\", match = http3 }",
                "  d { endpoint = \"tcp://127.0.0.1:8445\", mux = on, match = http1 }",
                "  e { endpoint = \"tcp://127.0.0.1:8446\", match { prefix = \"\" } }",
                "  g { endpoint = \"tcp://127.0.0.1:8447\", match { tls { sni = [\"a.*.example\"] } } }",
                "  h { endpoint = \"tcp://127.0.0.1:8448\", match = http1, scope = system }",
                "}");

        List<String> m = messages(f.fails());

        assertThat(m).contains(etc + ":4: mancom.services.b.endpoint: services a, b share endpoint tcp://127.0.0.1:8443,"
                        + " but 'b' has no match; give each a match (http1, http2, tls { ... }, prefix = \"...\", any for the"
                        + " fallback) or give it an endpoint of its own",
                etc + ":6: mancom.services.c.match: found \"http3\" but expected one of http1, http2, mux, any, tls, or a"
                        + " block match { tls { sni = [...], alpn = [...] } } or match { prefix = \"SSH-\" }",
                etc + ":7: mancom.services.d.match: 'd' has mux = on and a match; a port shared by match carries each"
                        + " connection to one service as it is: set mux = off (a service with match = mux takes the mux"
                        + " sessions)",
                etc + ":8: mancom.services.e.match.prefix: found an empty prefix but expected at least one byte (use"
                        + " match = any for every connection)");
        assertThat(m).anyMatch(s -> s.startsWith(etc + ":9: mancom.services.g.match.tls.sni: found server name \"a.*.example\""));
        assertThat(m).contains(etc + ":10: mancom.services.h.match: 'h' has scope = system and a match; the daemon does"
                + " not share ports by match yet: use scope = process");
    }

    @Test
    void aPortHasOneSniffValueAndOnTimeoutNamesOneOfItsServices() {
        Path etc = f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:8443\", match = http1, sniff.max-bytes = 8KiB }",
                "  b { endpoint = \"tcp://127.0.0.1:8443\", match = http2, sniff.max-bytes = 4KiB }",
                "  c { endpoint = \"tcp://127.0.0.1:8444\", match = http2, sniff.on-timeout = ssh }",
                "}");

        List<String> m = messages(f.fails());

        assertThat(m).containsExactlyInAnyOrder(
                etc + ":3: mancom.services.b.sniff.max-bytes: found 4KiB but 'a', which shares the port, has 8KiB ("
                        + etc + ":2); a port has one sniff.max-bytes: set the same value, or set it once in mancom.defaults",
                etc + ":4: mancom.services.c.sniff.on-timeout: found \"ssh\" but expected a service of this port: c");
    }

    @Test
    void handlerForwardNeedsAnEndpoint() {
        Path etc = f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:8443\", handler = forward }",
                "  b { endpoint = \"tcp://127.0.0.1:8444\", handler = forward, forward = \"tcp://nohost\" }",
                "  c { endpoint = \"tcp://127.0.0.1:8445\", handler = forward",
                "      forward { endpoint = \"tcp://127.0.0.1:22\", proxy-protocol = v1 } }",
                "}");

        List<String> m = messages(f.fails());

        assertThat(m).anyMatch(s -> s.startsWith(etc + ":2: mancom.services.a.forward: found no endpoint but"
                + " handler = forward needs one"));
        assertThat(m).anyMatch(s -> s.startsWith(etc + ":3: mancom.services.b.forward: found \"tcp://nohost\" but"
                + " expected an endpoint URI"));
        assertThat(m).contains(etc + ":5: mancom.services.c.forward.proxy-protocol: found \"v1\" but expected off or v2");
    }
}
