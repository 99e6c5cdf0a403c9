package io.mancom.core.internal.link;

import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.core.internal.config.ConfigFixture;
import io.mancom.core.spi.RuntimeSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The {@code link} block through the real loader: the word, the block, defaults, errors with file and line. */
class LinkSettingsTest {
    @TempDir
    Path tmp;

    private LinkSettings link(String... lines) {
        ConfigFixture f = new ConfigFixture(tmp);
        f.etcFile(lines);
        RuntimeSettings r = f.load();
        return LinkSettings.of(r.services().get("s"));
    }

    @Test
    void plainByDefaultAndTheWordTurnsItOn() {
        assertThat(link("mancom.services.s.endpoint = \"tcp://h:1\"").reliable()).isFalse();
        LinkSettings on = link("mancom.services.s { endpoint = \"tcp://h:1\", link = reliable }");
        assertThat(on).isEqualTo(LinkSettings.DEFAULTS.withReliable(true));
        assertThat(link("mancom.defaults.link = reliable", "mancom.services.s { endpoint = \"tcp://h:1\", link = plain }")
                .reliable()).isFalse();
    }

    @Test
    void aBlockKeepsTheDefaultsOfWhatItLeavesOut() {
        LinkSettings s = link("mancom.services.s { endpoint = \"tcp://h:1\"",
                "  link { mode = reliable, window = 64, resume-timeout = 2s, frame-size = 64 } }");
        assertThat(s.reliable()).isTrue();
        assertThat(s.window()).isEqualTo(64);
        assertThat(s.frameSize()).isEqualTo(64);
        assertThat(s.resumeTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.keepalive()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void theAutoWindowIsHalfASecondOfLineTime() {
        LinkSettings s = LinkSettings.DEFAULTS.withReliable(true);
        assertThat(s.windowFor(EndPoint.parse("serial:///dev/ttyUSB0?baud=115200"))).isEqualTo(46);
        assertThat(s.windowFor(EndPoint.parse("serial:///dev/ttyUSB0?baud=9600"))).isEqualTo(8);
        assertThat(s.windowFor(EndPoint.tcp("h", 1))).isEqualTo(256);
        assertThat(s.withWindow(10).windowFor(EndPoint.tcp("h", 1))).isEqualTo(10);
    }

    @Test
    void badValuesNameTheFileLineAndKey() {
        assertThatThrownBy(() -> link("mancom.services.s { endpoint = \"tcp://h:1\"", "  link { mode = sure } }"))
                .isInstanceOf(ConfigException.class).hasMessageContaining(":2: mancom.services.s.link.mode")
                .hasMessageContaining("plain, reliable");
        assertThatThrownBy(() -> link("mancom.services.s { endpoint = \"tcp://h:1\"", "  link { mode = reliable, windw = 3 } }"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("mancom.services.s.link.windw")
                .hasMessageContaining("did you mean \"window\"");
        assertThatThrownBy(() -> link("mancom.services.s { endpoint = \"tcp://h:1\"", "  link { timeout = 1s } }"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("timeout (1000 ms) must be longer than keepalive (1000 ms)");
    }
}
