package io.mancom.core.spi;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mancom.ConfigException;
import io.mancom.core.internal.config.ConfigFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SettingsTest {
    @TempDir
    Path tmp;
    private Path file;

    enum Flow { NONE, RTS_CTS, XON_XOFF }

    private Config parse(String name, String... lines) {
        file = ConfigFixture.write(tmp.resolve(name), lines);
        return ConfigFactory.parseFile(file.toFile()).resolve();
    }

    /** The block "mancom.services.x", read from a file so errors have a file and line. */
    private Settings block(String... lines) {
        return Settings.of(parse("block.conf", lines), "mancom.services.x");
    }

    private ConfigException error(Runnable read) {
        Throwable[] thrown = new Throwable[1];
        assertThatThrownBy(read::run).isInstanceOf(ConfigException.class).satisfies(t -> thrown[0] = t);
        return (ConfigException) thrown[0];
    }

    private void assertError(Runnable read, int line, String key, String message) {
        ConfigException e = error(read);
        assertThat(e.file()).hasValue(file.toString());
        assertThat(e.line()).hasValue(line);
        assertThat(e.key()).hasValue(key);
        assertThat(e.getMessage()).isEqualTo(file + ":" + line + ": " + key + ": " + message);
    }

    @Test
    void switchesAcceptEveryHoconSpelling() {
        Settings s = block("a = on", "b = off", "c = true", "d = no", "e = \"yes\"", "f = \"off\"");
        assertThat(List.of("a", "b", "c", "d", "e", "f")).map(s::getBoolean)
                .containsExactly(true, false, true, false, true, false);
        assertError(() -> block("", "a = 1").getBoolean("a"), 2, "mancom.services.x.a", "found 1 but expected on or off");
    }

    @Test
    void integersAreRangeChecked() {
        Settings s = block("a = 7", "b = \"8\"", "c = 0", "d = 10.0");
        assertThat(s.getInt("a", 1, 10)).isEqualTo(7);
        assertThat(s.getInt("b", 1, 10)).isEqualTo(8);
        assertThat(s.getInt("d", 1, 10)).isEqualTo(10);
        assertThat(s.getLong("a", Long.MIN_VALUE, Long.MAX_VALUE)).isEqualTo(7);
        assertError(() -> s.getInt("c", 1, 10), 3, "mancom.services.x.c", "found 0 but expected an integer from 1 to 10");
        assertError(() -> block("a = 99999999999").getInt("a", 0, Integer.MAX_VALUE), 1, "mancom.services.x.a",
                "found 99999999999 but expected an integer from 0 to 2147483647");
        assertError(() -> block("a = 5").getLong("a", 6, Long.MAX_VALUE), 1, "mancom.services.x.a",
                "found 5 but expected an integer of at least 6");
        assertError(() -> block("a = [1]").getInt("a", 0, 1), 1, "mancom.services.x.a",
                "found a list [1] but expected an integer from 0 to 1");
    }

    @Test
    void sizesTakeUnits() {
        Settings s = block("a = 32KiB", "b = 1MB", "c = 100", "d = 2MiB");
        assertThat(s.getBytes("a", 0, Long.MAX_VALUE)).isEqualTo(32 * 1024);
        assertThat(s.getBytes("b", 0, Long.MAX_VALUE)).isEqualTo(1_000_000);
        assertThat(s.getIntBytes("c", 1, 1000)).isEqualTo(100);
        assertError(() -> s.getIntBytes("d", 1, 1 << 20), 4, "mancom.services.x.d",
                "found \"2MiB\" (2097152 bytes) but expected a size such as 64KiB or 16MiB, from 1 byte to 1MiB");
        assertError(() -> block("a = -1").getBytes("a", 0, Long.MAX_VALUE), 1, "mancom.services.x.a",
                "found -1 but expected a size such as 64KiB or 16MiB");
    }

    @Test
    void durationsTakeUnitsOrMilliseconds() {
        Settings s = block("a = 100ms", "b = 250", "c = 2m");
        Duration max = Duration.ofHours(1);
        assertThat(s.getDuration("a", Duration.ZERO, max)).isEqualTo(Duration.ofMillis(100));
        assertThat(s.getDuration("b", Duration.ZERO, max)).isEqualTo(Duration.ofMillis(250));
        assertError(() -> s.getDuration("c", Duration.ZERO, Duration.ofSeconds(30)), 3, "mancom.services.x.c",
                "found \"2m\" but expected a duration such as 100ms, 5s or 1m, from 0s to 30s");
    }

    @Test
    void stringsAndEnums() {
        Settings s = block("a = hello", "b = rts-cts", "c = rtscts", "d = { x = 1 }");
        assertThat(s.getString("a")).isEqualTo("hello");
        assertThat(s.getEnum("a", List.of("hello", "bye"))).isEqualTo("hello");
        assertThat(s.getEnum("b", Flow.class)).isEqualTo(Flow.RTS_CTS);
        assertError(() -> s.getEnum("c", Flow.class), 3, "mancom.services.x.c",
                "found \"rtscts\" but expected one of: none, rts-cts, xon-xoff");
        assertError(() -> s.getString("d"), 4, "mancom.services.x.d", "found an object {\"x\":1} but expected a string");
    }

    @Test
    void missingValueIsReportedAtTheBlock() {
        Settings s = Settings.of(parse("f.conf", "mancom.services {", "  x {", "    a = 1", "  }", "}")
                .getConfig("mancom.services.x"), "mancom.services.x");
        assertError(() -> s.getInt("b", 0, 1), 2, "mancom.services.x.b", "found no value but expected an integer from 0 to 1");
    }

    @Test
    void pathThroughAPlainValueNamesThatValue() {
        assertError(() -> block("a = 5").getInt("a.b", 0, 1), 1, "mancom.services.x.a", "found 5 but expected a block { ... }");
    }

    @Test
    void aMalformedPathIsAProgrammingError() {
        assertThatThrownBy(() -> block("a = 5").getInt("a..b", 0, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void inheritedValuesAreReportedUnderTheFallbacksKey() {
        Config defaults = parse("defaults.conf", "tcp { backlog = lots, no-delay = on }");
        Config service = ConfigFactory.parseString("tcp.no-delay = off");
        Settings s = Settings.of(service, "mancom.services.x", defaults, "mancom.defaults");

        assertThat(s.key("tcp.no-delay")).isEqualTo("mancom.services.x.tcp.no-delay");
        assertThat(s.key("tcp.backlog")).isEqualTo("mancom.defaults.tcp.backlog");
        Settings tcp = s.block("tcp");
        assertThat(tcp.getBoolean("no-delay")).isFalse();
        assertError(() -> tcp.getInt("backlog", 1, 65535), 1, "mancom.defaults.tcp.backlog",
                "found \"lots\" but expected an integer from 1 to 65535");
    }

    @Test
    void switchBlockAcceptsABareSwitchAndKeepsTheFallbacksOtherKeys() {
        Config defaults = ConfigFactory.parseString("mux { enabled = off, window = 64KiB }");
        Settings on = Settings.of(ConfigFactory.parseString("mux = on"), "mancom.services.x", defaults, "mancom.defaults")
                .switchBlock("mux");
        assertThat(on.getBoolean("enabled")).isTrue();
        assertThat(on.getBytes("window", 1, Long.MAX_VALUE)).isEqualTo(64 * 1024);
        assertThat(on.key("enabled")).isEqualTo("mancom.services.x.mux.enabled");
        assertThat(on.key("window")).isEqualTo("mancom.defaults.mux.window");

        Settings block = Settings.of(ConfigFactory.parseString("mux { enabled = yes }"), "k", defaults, "d")
                .switchBlock("mux");
        assertThat(block.getBoolean("enabled")).isTrue();
        assertThat(block.getBytes("window", 1, Long.MAX_VALUE)).isEqualTo(64 * 1024);

        Settings inherited = Settings.of(ConfigFactory.empty(), "k", defaults, "d").switchBlock("mux");
        assertThat(inherited.getBoolean("enabled")).isFalse();
        assertThat(inherited.key()).isEqualTo("d.mux");
    }

    @Test
    void switchBlockRejectsWhatIsNeitherASwitchNorABlock() {
        assertError(() -> block("mux = 3").switchBlock("mux"), 1, "mancom.services.x.mux",
                "found 3 but expected on, off or a block { enabled = on, ... }");
        assertError(() -> block("mux = sometimes").switchBlock("mux"), 1, "mancom.services.x.mux",
                "found \"sometimes\" but expected on, off or a block { enabled = on, ... }");
        assertError(() -> block("", "mux = sometimes").block("mux"), 2, "mancom.services.x.mux",
                "found \"sometimes\" but expected a block { ... }");
    }

    @Test
    void requireKnownKeysReportsEveryUnknownKey() {
        Settings s = block("backlog = 1", "nodelay = on", "keepalive = off");

        ConfigException e = error(() -> s.requireKnownKeys(List.of("backlog", "no-delay", "keep-alive")));
        assertThat(e.getMessage()).isEqualTo(file + ":3: mancom.services.x.keepalive: found unknown key \"keepalive\""
                + " but expected one of: backlog, keep-alive, no-delay (did you mean \"keep-alive\"?)");
        assertThat(Arrays.stream(e.getSuppressed()).map(Throwable::getMessage)).containsExactly(
                file + ":2: mancom.services.x.nodelay: found unknown key \"nodelay\""
                        + " but expected one of: backlog, keep-alive, no-delay (did you mean \"no-delay\"?)");
        block("backlog = 1").requireKnownKeys(List.of("backlog"));
    }

    @Test
    void errorLocatesAnyCheckTheCallerMakes() {
        Settings s = block("", "", "a = 5");
        assertError(() -> {
            throw s.error("a", "found 5 but expected an odd number of fish");
        }, 3, "mancom.services.x.a", "found 5 but expected an odd number of fish");
    }

    @Test
    void ofServiceAndOfRuntimeName() {
        ConfigFixture f = new ConfigFixture(tmp);
        Path etc = f.etcFile("mancom.defaults.tcp.backlog = lots");
        RuntimeSettings rt = f.load();

        ServiceSettings demo = rt.services().get("demo");
        ConfigException viaService = error(() -> Settings.of(demo).block("tcp").getInt("backlog", 1, 65535));
        assertThat(viaService.key()).hasValue("mancom.services.demo.tcp.backlog");
        assertThat(viaService.file()).hasValue(etc.toString());

        ConfigException viaRuntime = error(() -> Settings.of(rt, "demo").block("tcp").getInt("backlog", 1, 65535));
        assertThat(viaRuntime.getMessage()).isEqualTo(
                etc + ":1: mancom.defaults.tcp.backlog: found \"lots\" but expected an integer from 1 to 65535");
        assertThatThrownBy(() -> Settings.of(rt, "nope")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void closestSuggestsOnlyNearWords() {
        assertThat(Settings.closest("endpiont", List.of("endpoint", "handler"))).isEqualTo("endpoint");
        assertThat(Settings.closest("colour", List.of("endpoint", "handler"))).isNull();
    }
}
