package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.ServiceStatus;
import io.mancom.core.spi.RuntimeSettings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** scope, allow, hold and daemon.socket: their defaults, their values, and what a mistake is told. */
class ScopeSettingsTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    @Test
    void defaultsAreProcessScopeOwnerOnlyAndBoundedHolding() {
        f.etcFile("mancom.runtime-dir = \"" + tmp.resolve("run") + "\"",
                "mancom.services.echo.endpoint = \"tcp://127.0.0.1:7000\"");
        RuntimeSettings s = f.load();
        ScopeSettings scope = ScopeSettings.of(s.service("echo"));
        assertThat(scope).isEqualTo(new ScopeSettings(ServiceStatus.Scope.PROCESS, List.of(), List.of(), 256,
                Duration.ofSeconds(30)));
        assertThat(scope.allowsOwnerOnly()).isTrue();
        assertThat(DaemonSettings.of(s).socket()).isEqualTo(tmp.resolve("run").resolve("mancomd.sock"));
    }

    @Test
    void systemScopeWithAllowListsAndHoldBoundsFromDefaultsAndService() {
        f.etcFile("mancom.defaults.hold.timeout = 5s",
                "mancom.daemon.socket = \"/run/mancom/mancomd.sock\"",
                "mancom.services.web { endpoint = \"tcp://127.0.0.1:8080\", scope = system",
                "  allow { users = [www-data, 1000], groups = [mancom] }, hold.connections = 10 }");
        RuntimeSettings s = f.load();
        assertThat(ScopeSettings.of(s.service("web"))).isEqualTo(new ScopeSettings(ServiceStatus.Scope.SYSTEM,
                List.of("www-data", "1000"), List.of("mancom"), 10, Duration.ofSeconds(5)));
        assertThat(DaemonSettings.of(s).socket()).isEqualTo(Path.of("/run/mancom/mancomd.sock"));
        // The daemon runs the same service as its own.
        assertThat(ScopeSettings.of(ScopeSettings.ownedHere(s.service("web"))).isSystem()).isFalse();
    }

    @Test
    void aWrongScopeNamesFileLineAndTheChoices() {
        Path etc = f.etcFile("mancom.services.web { endpoint = \"tcp://127.0.0.1:8080\"", "  scope = global }");
        ConfigException e = f.fails();
        assertThat(e.getMessage()).isEqualTo(etc + ":2: mancom.services.web.scope: found \"global\" but expected one of: "
                + "process, system");
    }

    @Test
    void anUnknownKeyInAllowIsAnError() {
        Path etc = f.etcFile("mancom.services.web { endpoint = \"tcp://127.0.0.1:8080\", scope = system",
                "  allow.user = [alice] }");
        ConfigException e = f.fails();
        assertThat(e.getMessage()).startsWith(etc + ":2: mancom.services.web.allow.user: found unknown key \"user\"")
                .contains("groups, users");
    }

    @Test
    void aRelativeDaemonSocketIsAnError() {
        Path etc = f.etcFile("mancom.daemon.socket = \"mancomd.sock\"");
        ConfigException e = f.fails();
        assertThat(e.getMessage()).startsWith(etc + ":1: mancom.daemon.socket: found \"mancomd.sock\" but expected "
                + "an absolute path");
    }

    @Test
    void oneLinkHasOneOwner() {
        Path etc = f.etcFile("mancom.services.a { endpoint = \"tcp://127.0.0.1:7100\", mux = on, scope = system }",
                "mancom.services.b { endpoint = \"tcp://127.0.0.1:7100\", mux = on }");
        ConfigException e = f.fails();
        assertThat(e.getMessage()).isEqualTo(etc + ":1: mancom.services.a.scope: services a, b all use endpoint "
                + "tcp://127.0.0.1:7100, but 'a' has scope = system and 'b' scope = process; one link has one owner:"
                + " give them all the same scope, or each its own endpoint");
    }

    @Test
    void servicesTheDaemonOwnsShareNoLinkInTheProcess() {
        f.etcFile("mancom.services.a { endpoint = \"serial:///dev/ttyS9\", mux = on, scope = system }",
                "mancom.services.b { endpoint = \"serial:///dev/ttyS9\", mux = on, scope = system }");
        RuntimeSettings s = f.load();
        assertThat(ServicePlan.of(s).sharedLinks()).isEmpty();
        // The daemon's own view of them (scope = process) shares the line.
        var owned = new java.util.TreeMap<String, io.mancom.core.spi.ServiceSettings>();
        s.services().forEach((n, v) -> owned.put(n, ScopeSettings.ownedHere(v)));
        assertThat(ServicePlan.of(owned).sharedLinks()).singleElement()
                .satisfies(l -> assertThat(l.members()).containsExactly("a", "b"));
    }
}
