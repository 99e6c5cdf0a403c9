package io.mancom.core.internal.config;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** TCP clients redial only when a config layer asks for it; the built-in default is for devices. */
class ClientReconnectSettingTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    private boolean redials(String... lines) {
        f.etcFile(lines);
        return f.load().service("c").reconnectsClients();
    }

    @Test
    void offWithTheBuiltInDefault() {
        assertThat(redials("mancom.services.c.endpoint = \"tcp://h:1\"")).isFalse();
    }

    @Test
    void onWhenTheServiceSetsIt() {
        assertThat(redials("mancom.services.c { endpoint = \"tcp://h:1\", reconnect = on }")).isTrue();
        assertThat(redials("mancom.services.c { endpoint = \"tcp://h:1\", reconnect { enabled = on } }")).isTrue();
    }

    @Test
    void onWhenTheDefaultsOfAConfigFileSetIt() {
        assertThat(redials("mancom.defaults.reconnect = on", "mancom.services.c.endpoint = \"tcp://h:1\"")).isTrue();
    }

    @Test
    void offWhenSetOffOrWhenOnlyTheDelaysAreSet() {
        assertThat(redials("mancom.services.c { endpoint = \"tcp://h:1\", reconnect = off }")).isFalse();
        assertThat(redials("mancom.services.c { endpoint = \"tcp://h:1\", reconnect.max-delay = 1s }")).isFalse();
    }
}
