package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code mux = on} followed by {@code mux.max-streams = ...} in one file: HOCON's own merge drops
 * the switch; the loader keeps it, as the user meant.
 */
class ShadowedSwitchTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    @Test
    void aSwitchFollowedByAKeyOfItsBlockKeepsBoth() {
        f.etcFile("mancom.services.t { endpoint = \"tcp://h:1\", mux = on }",
                "mancom.services.t.mux.max-streams = 8");

        Settings mux = Settings.of(f.load(), "t").switchBlock("mux");

        assertThat(mux.getBoolean("enabled")).isTrue();
        assertThat(mux.getInt("max-streams", 1, 100)).isEqualTo(8);
        assertThat(ServicePlan.of(f.load()).sharedLink("t")).isPresent();
        // config check shows where the switch was written.
        ConfigReport.Entry enabled = ConfigReport.of(f.load()).services().stream()
                .filter(s -> s.name().equals("t")).findFirst().orElseThrow()
                .entries().stream().filter(e -> e.key().equals("mux.enabled")).findFirst().orElseThrow();
        assertThat(enabled.source()).isEqualTo(tmp.resolve("etc/mancom/mancom.conf") + ":1");
    }

    @Test
    void insideTheServiceBlockToo() {
        f.etcFile("mancom.services.t {",
                "  endpoint = \"tcp://h:1\"",
                "  mux = on",
                "  mux.max-streams = 8",
                "  reconnect = off",
                "  reconnect.max-delay = 9s",
                "}");

        ServiceSettings t = f.load().service("t");

        assertThat(t.config().getBoolean("mux.enabled")).isTrue();
        assertThat(t.config().getInt("mux.max-streams")).isEqualTo(8);
        assertThat(t.reconnect()).isEqualTo(new ServiceSettings.Reconnect(false, Duration.ofMillis(100),
                Duration.ofSeconds(9)));
    }

    @Test
    void inTheDefaultsAndTheOverrides() {
        f.etcFile("mancom.defaults.mux = on", "mancom.defaults.mux.max-streams = 8",
                "mancom.services.t.endpoint = \"tcp://h:1\"");
        f.overrides = "mancom.services.u.endpoint = \"tcp://h:2\"\nmancom.services.u.reconnect = off\n"
                + "mancom.services.u.reconnect.initial-delay = 1s";

        RuntimeSettings s = f.load();

        assertThat(s.service("t").config().getBoolean("mux.enabled")).isTrue();
        assertThat(s.service("t").config().getInt("mux.max-streams")).isEqualTo(8);
        assertThat(s.service("u").reconnect().enabled()).isFalse();
        assertThat(s.service("u").reconnect().initialDelay()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void aBlockKeyWithoutASwitchLeavesTheSwitchAsItWas() {
        f.etcFile("mancom.services.t { endpoint = \"tcp://h:1\" }", "mancom.services.t.mux.max-streams = 8");

        ServiceSettings t = f.load().service("t");

        assertThat(t.config().getBoolean("mux.enabled")).isFalse();
        assertThat(t.config().getInt("mux.max-streams")).isEqualTo(8);
    }

    @Test
    void aSwitchAfterAKeyOfItsBlockIsAnErrorAtTheSwitch() {
        Path etc = f.etcFile("mancom.services.t.endpoint = \"tcp://h:1\"",
                "mancom.services.t.mux.max-streams = 8",
                "mancom.services.t.mux = on");

        ConfigException e = f.fails();

        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.line()).hasValue(3);
        assertThat(e.key()).hasValue("mancom.services.t.mux");
        assertThat(e.getMessage()).contains("found mux = on after mux.max-streams in the same file")
                .contains("write mux { enabled = on, max-streams = ... }");
    }

    @Test
    void aBlockAfterTheSwitchIsAnErrorAtTheBlock() {
        Path etc = f.etcFile("mancom.services.t {",
                "  endpoint = \"tcp://h:1\"",
                "  mux = on",
                "  mux { max-streams = 8 }",
                "}");

        ConfigException e = f.fails();

        assertThat(e.line()).hasValue(4);
        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.key()).hasValue("mancom.services.t.mux");
        assertThat(e.getMessage()).contains("write one block, mux { enabled = on, ... }");
    }

    @Test
    void aFullBlockAfterASwitchStillTakesTheDefaults() {
        f.etcFile("mancom.services.t {",
                "  endpoint = \"tcp://h:1\"",
                "  reconnect = on",
                "  reconnect { enabled = off, max-delay = 9s }",
                "}");

        assertThat(f.load().service("t").reconnect()).isEqualTo(new ServiceSettings.Reconnect(false,
                Duration.ofMillis(100), Duration.ofSeconds(9)));
    }

    @Test
    void aServicesBlockThatWaitsForASubstitutionIsLeftToTheValidator() {
        // Found by ConfigLoaderFuzzTest: the services block is a merge that waits for ${?NOPE},
        // whose keys Typesafe refuses to list before resolving; its NotResolved escaped the loader.
        Path etc = f.etcFile("mancom.services.b = null",
                "mancom.services = null",
                "mancom.services.x.services.y.endpoint = ${?NOPE}");

        ConfigException e = f.fails();

        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.key()).hasValue("mancom.services.x.services");
    }

    @Test
    void aServiceBlockThatWaitsForASubstitutionIsLeftToTheValidator() {
        // Found by ConfigLoaderFuzzTest (session 8): one service, not the services block, is the
        // merge that waits for ${?NOPE}; reading its keys for the switch words threw Typesafe's
        // NotResolved out of the loader.
        Path etc = f.etcFile("mancom.services.a = null",
                "mancom.services.a.x.y.endpoint = ${?NOPE}");

        ConfigException e = f.fails();

        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.key()).hasValueSatisfying(k -> assertThat(k).startsWith("mancom.services.a"));
    }
}
