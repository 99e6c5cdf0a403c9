package io.mancom.core.internal.mux;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mancom.ConfigException;
import io.mancom.core.spi.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MuxSettingsTest {

    private static MuxSettings parse(String service) {
        return MuxSettings.from(Settings.of(ConfigFactory.parseString(service), "mancom.services.x"));
    }

    @Test
    void referenceConfHoldsTheDefaults() {
        Config defaults = ConfigFactory.defaultReference().getConfig("mancom.defaults");
        assertThat(MuxSettings.from(Settings.of(defaults, "mancom.defaults"))).isEqualTo(MuxSettings.DEFAULTS);
        assertThat(defaults.getObject("mux").keySet()).containsExactlyInAnyOrderElementsOf(MuxSettings.KEYS);
    }

    @Test
    void absentMeansOff() {
        assertThat(parse("endpoint = \"tcp://h:1\"")).isEqualTo(MuxSettings.DEFAULTS);
        assertThat(MuxSettings.DEFAULTS.enabled()).isFalse();
    }

    @Test
    void onIsShortForEnabledWithDefaults() {
        for (String on : new String[]{"on", "true", "yes", "\"on\""}) {
            MuxSettings s = parse("mux = " + on);
            assertThat(s.enabled()).as(on).isTrue();
            assertThat(s.toBuilder().enabled(false).build()).isEqualTo(MuxSettings.DEFAULTS);
        }
        assertThat(parse("mux = off").enabled()).isFalse();
    }

    @Test
    void readsEveryKey() {
        MuxSettings s = parse("""
                mux {
                  enabled = on
                  routing = none
                  role = initiator
                  max-streams = 10
                  accept-backlog = 3
                  max-window = 256KiB
                  stream-window = 128KiB
                  receive-buffer = 4MiB
                  keepalive-interval = 250ms
                  idle-timeout = 2s
                }""");
        assertThat(s).isEqualTo(new MuxSettings(true, MuxSettings.Routing.NONE, MuxSettings.Role.INITIATOR, 10, 3,
                256 * 1024, 128 * 1024, 4L << 20, Duration.ofMillis(250), Duration.ofSeconds(2), Duration.ofSeconds(10)));
        assertThat(s.idleTimeoutEnabled()).isTrue();
        assertThat(parse("mux { idle-timeout = off, keepalive-interval = off }").idleTimeoutEnabled()).isFalse();
        assertThat(parse("mux { keepalive-interval = 0 }").keepaliveEnabled()).isFalse();
    }

    @Test
    void errorsNameFileLineAndKey(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("mancom.conf");
        assertThatThrownBy(() -> fromFile(file, "endpoint = \"serial:///dev/ttyUSB0\"\nmux {\n  enabled = on\n  max-stream = 5\n}\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(file + ":4: mancom.services.telemetry.mux.max-stream: found unknown key")
                .hasMessageContaining("did you mean \"max-streams\"")
                .satisfies(e -> {
                    ConfigException ce = (ConfigException) e;
                    assertThat(ce.file()).hasValue(file.toString());
                    assertThat(ce.line()).hasValue(4);
                    assertThat(ce.key()).hasValue("mancom.services.telemetry.mux.max-stream");
                });
        // A bad value of a key, here the early per-stream grant, is named at its line too.
        Path other = dir.resolve("other.conf");
        assertThatThrownBy(() -> fromFile(other, "mux {\n  enabled = on\n  stream-window = 10\n}\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(other + ":3: mancom.services.telemetry.mux.stream-window: found 10");
    }

    private static MuxSettings fromFile(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Config c = ConfigFactory.parseFile(file.toFile());
        return MuxSettings.from(Settings.of(c, "mancom.services.telemetry"));
    }

    @Test
    void badValuesSayWhatIsAllowed() {
        assertBad("mux { role = boss }", "mux.role", "found \"boss\" but expected one of: auto, initiator, responder");
        assertBad("mux { routing = sideways }", "mux.routing", "found \"sideways\" but expected one of: service, none");
        assertBad("mux { max-streams = 0 }", "mux.max-streams", "found 0 but expected an integer from 1 to 1048576");
        assertBad("mux { max-streams = many }", "mux.max-streams", "found \"many\" but expected an integer");
        assertBad("mux { max-window = 1KiB }", "mux.max-window", "found \"1KiB\" (1024 bytes) but expected a size");
        assertBad("mux { stream-window = 1KiB }", "mux.stream-window", "found \"1KiB\" (1024 bytes) but expected a size");
        assertBad("mux { stream-window = 2GiB }", "mux.stream-window", "found \"2GiB\"");
        assertBad("mux { receive-buffer = lots }", "mux.receive-buffer", "found \"lots\" but expected a size");
        assertBad("mux { idle-timeout = soon }", "mux.idle-timeout", "found \"soon\" but expected a duration");
        assertBad("mux = maybe", "mux", "found \"maybe\" but expected on, off or a block");
    }

    private static void assertBad(String conf, String key, String message) {
        assertThatThrownBy(() -> parse(conf))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("mancom.services.x." + key + ": " + message)
                .satisfies(e -> assertThat(((ConfigException) e).key()).hasValue("mancom.services.x." + key));
    }

    @Test
    void constructorValidatesWithFieldNames() {
        assertThatThrownBy(() -> MuxSettings.builder().maxStreams(0).build()).hasMessage("maxStreams < 1: 0");
        assertThatThrownBy(() -> MuxSettings.builder().acceptBacklog(0).build()).hasMessage("acceptBacklog < 1: 0");
        assertThatThrownBy(() -> MuxSettings.builder().maxWindow(100).build())
                .hasMessage("maxWindow must be 65536..1073741824: 100");
        assertThatThrownBy(() -> MuxSettings.builder().streamWindow(1000).build())
                .hasMessage("streamWindow must be 65536..1073741824: 1000");
        assertThatThrownBy(() -> MuxSettings.builder().receiveBuffer(1).build()).hasMessage("receiveBuffer < 65536: 1");
        assertThatThrownBy(() -> MuxSettings.builder().idleTimeout(Duration.ofSeconds(-1)).build())
                .hasMessage("idleTimeout < 0: PT-1S");
    }

    @Test
    void roleOnTcpFollowsTheDialer() {
        MuxSettings s = MuxSettings.builder().role(MuxSettings.Role.RESPONDER).build();
        assertThat(s.roleFor(false, true)).isEqualTo(MuxSettings.Role.INITIATOR);
        assertThat(s.roleFor(false, false)).isEqualTo(MuxSettings.Role.RESPONDER);
        assertThat(s.roleFor(true, true)).isEqualTo(MuxSettings.Role.RESPONDER);
        assertThat(MuxSettings.DEFAULTS.roleFor(true, false)).isEqualTo(MuxSettings.Role.AUTO);
    }
}
