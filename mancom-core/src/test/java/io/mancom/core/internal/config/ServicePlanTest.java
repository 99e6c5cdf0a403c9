package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The rules across services, as the loader applies them (so {@code mancom config check} reports
 * them) and as the runtime plans its shared links.
 */
class ServicePlanTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    @Test
    void servicesWithMuxOnAndOneEndpointShareOneLink() {
        f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:7071\", mux = on }",
                "  b { endpoint = \"tcp://127.0.0.1:7071\", mux = on }",
                "  c { endpoint = \"tcp://127.0.0.1:7072\", mux = on }",
                "  d { endpoint = \"tcp://127.0.0.1:0\" }",
                "  e { endpoint = \"tcp://127.0.0.1:0\" }",
                "}");

        ServicePlan plan = ServicePlan.of(f.load());

        assertThat(plan.sharedLinks()).containsExactly(
                new ServicePlan.SharedLink(EndPoint.parse("tcp://127.0.0.1:7071"), List.of("a", "b")),
                new ServicePlan.SharedLink(EndPoint.parse("tcp://127.0.0.1:7072"), List.of("c")));
        assertThat(plan.sharedLink("b").orElseThrow().members()).containsExactly("a", "b");
        // Plain binds to port 0 each get a port of their own: nothing shared, nothing wrong.
        assertThat(plan.sharedLink("d")).isEmpty();
        assertThat(plan.sharedLink("demo")).isEmpty();
    }

    @Test
    void sharingAFixedEndpointWithMuxOffIsRejectedAtTheEndpoint() {
        Path etc = f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:7071\", mux = on }",
                "  b {",
                "    endpoint = \"tcp://127.0.0.1:7071\"",
                "  }",
                "}");

        ConfigException e = f.fails();

        assertThat(e.getMessage()).isEqualTo(etc + ":4: mancom.services.b.mux: services a, b all use endpoint "
                + "tcp://127.0.0.1:7071, but 'b' has mux off; set mux = on for each of them to share one link, or "
                + "give each its own endpoint");
    }

    @Test
    void everyServiceWithMuxOffOnASharedEndpointIsNamed() {
        f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:7071\" }",
                "  b { endpoint = \"tcp://127.0.0.1:7071\" }",
                "}");

        ConfigException e = f.fails();

        assertThat(e.getMessage()).contains("mancom.services.a.mux: services a, b").contains("but 'a' has mux off");
        assertThat(e.getSuppressed()).hasSize(1);
        assertThat(e.getSuppressed()[0].getMessage()).contains("but 'b' has mux off");
    }

    @Test
    void routingNoneCarriesOneService() {
        Path etc = f.etcFile("mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:7071\"",
                "      mux { enabled = on, routing = none } }",
                "  b { endpoint = \"tcp://127.0.0.1:7071\", mux = on }",
                "}");

        ConfigException e = f.fails();

        assertThat(e.getMessage()).isEqualTo(etc + ":3: mancom.services.a.mux.routing: services a, b share endpoint "
                + "tcp://127.0.0.1:7071 but routing = none carries a single service; use routing = service");
    }

    @Test
    void aNameTheStreamPreambleCannotCarryIsRejectedWithMuxOn() {
        String longName = "n".repeat(256);
        Path etc = f.etcFile("mancom.services {",
                "  ok { endpoint = \"tcp://127.0.0.1:7071\", mux = on }",
                "  " + longName + " {",
                "    endpoint = \"tcp://127.0.0.1:7072\"",
                "    mux = on",
                "  }",
                "}");

        ConfigException e = f.fails();

        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.line()).hasValue(5);
        assertThat(e.key()).hasValue("mancom.services." + longName + ".mux");
        assertThat(e.getMessage()).contains("is 256 bytes of UTF-8, but a mux stream's preamble carries at most 255");
    }

    @Test
    void aLongNameIsFineWithoutAPreamble() {
        String longName = "n".repeat(300);
        f.etcFile("mancom.services." + longName + " { endpoint = \"tcp://127.0.0.1:7072\" }",
                "mancom.services.exactly { endpoint = \"tcp://127.0.0.1:7073\", mux = on }",
                "mancom.services." + "m".repeat(255) + " { endpoint = \"tcp://127.0.0.1:7074\", mux = on }");

        assertThat(f.load().services()).hasSize(4);
    }

    @Test
    void invalidMuxValuesAreFoundByTheLoaderNotOnlyAtStart() {
        Path etc = f.etcFile("mancom.services.a {",
                "  endpoint = \"tcp://127.0.0.1:7071\"",
                "  mux { enabled = on, max-streams = 0 }",
                "}");

        ConfigException e = f.fails();

        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.line()).hasValue(3);
        assertThat(e.key()).hasValue("mancom.services.a.mux.max-streams");
    }

    @Test
    void settingsBuiltWithoutTheLoaderAreCheckedByOf() {
        RuntimeSettings ok = f.load();
        f.etcFile("mancom.services.a { endpoint = \"tcp://127.0.0.1:7071\", mux = on }");
        RuntimeSettings withA = f.load();
        ServiceSettings a = withA.service("a");
        // The same service twice under another name: the loader never saw this combination.
        ServiceSettings b = new ServiceSettings("b", a.endpoint(), a.handler(), a.connectTimeout(), a.writeBuffer(),
                a.blocking(), a.reconnect(), a.config().withoutPath("mux"));

        assertThat(ServicePlan.of(ok).sharedLinks()).isEmpty();
        assertThatThrownBy(() -> ServicePlan.of(java.util.Map.of("a", a, "b", b)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("but 'b' has mux off");
    }
}
