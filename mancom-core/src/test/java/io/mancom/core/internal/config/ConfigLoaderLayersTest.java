package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.core.spi.ConfigLayer;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigLoaderLayersTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    private Duration connectTimeout() {
        return f.load().services().get("demo").connectTimeout();
    }

    @Test
    void noFilesAtAllGivesTheReferenceDemoService() {
        RuntimeSettings s = f.load();

        assertThat(s.ioThreads()).isZero();
        assertThat(s.services()).containsOnlyKeys("demo");
        ServiceSettings demo = s.services().get("demo");
        assertThat(demo.endpoint()).isEqualTo(EndPoint.tcp("127.0.0.1", 0));
        assertThat(demo.handler()).isEqualTo("echo");
        assertThat(demo.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(demo.writeBuffer()).isEqualTo(new ServiceSettings.WriteBuffer(128 * 1024, 256 * 1024, 16L << 20));
        assertThat(demo.blocking()).isEqualTo(new ServiceSettings.Blocking(256 * 1024, 128));
        assertThat(demo.reconnect())
                .isEqualTo(new ServiceSettings.Reconnect(true, Duration.ofMillis(100), Duration.ofSeconds(5)));
        assertThat(demo.config().getInt("tcp.backlog")).isEqualTo(1024);
        assertThat(demo.config().getBoolean("tcp.no-delay")).isTrue();
        assertThat(demo.config().getBoolean("tcp.keep-alive")).isFalse();
        assertThat(demo.config().getBoolean("mux.enabled")).isFalse();
    }

    /** Adds the layers one by one, earliest first; each must override everything below it. */
    @Test
    void eachLayerOverridesTheEarlierOnes() {
        List<Consumer<String>> layers = List.of(
                v -> f.etcFile("mancom.defaults.connect-timeout = " + v),
                v -> f.confD("10-first.conf", "mancom.defaults.connect-timeout = " + v),
                v -> f.confD("20-second.conf", "mancom.defaults.connect-timeout = " + v),
                v -> f.homeFile("mancom.defaults.connect-timeout = " + v),
                v -> f.mancomConfig("mancom.defaults.connect-timeout = " + v),
                v -> f.props.setProperty("mancom.defaults.connect-timeout", v),
                v -> f.overrides = "mancom.defaults.connect-timeout = " + v);
        assertThat(connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        for (int i = 0; i < layers.size(); i++) {
            layers.get(i).accept((i + 11) + "s");
            assertThat(connectTimeout()).as("after layer %d", i).isEqualTo(Duration.ofSeconds(i + 11));
        }
    }

    @Test
    void confDFilesApplyInNameOrderNotCreationOrder() {
        f.confD("b.conf", "mancom.defaults.connect-timeout = 2s");
        f.confD("a.conf", "mancom.defaults.connect-timeout = 1s");
        f.confD("10-x.conf", "mancom.defaults.connect-timeout = 10s");

        assertThat(connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(f.load().layers()).extracting(ConfigLayer::name).containsSubsequence(
                f.etc.resolve("conf.d/10-x.conf").toString(),
                f.etc.resolve("conf.d/a.conf").toString(),
                f.etc.resolve("conf.d/b.conf").toString());
    }

    @Test
    void confDIgnoresOtherExtensionsAndHiddenFiles() {
        f.confD("a.conf", "mancom.defaults.connect-timeout = 1s");
        f.confD("b.conf.bak", "mancom.defaults.connect-timeout = 2s");
        f.confD(".c.conf", "mancom.defaults.connect-timeout = 3s");

        assertThat(connectTimeout()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void layersMergeKeyByKey() {
        f.etcFile("mancom.services.echo { endpoint = \"tcp://0.0.0.0:7000\", handler = discard }");
        f.homeFile("mancom.services.echo.connect-timeout = 2s");

        ServiceSettings echo = f.load().services().get("echo");
        assertThat(echo.endpoint()).isEqualTo(EndPoint.tcp("0.0.0.0", 7000));
        assertThat(echo.handler()).isEqualTo("discard");
        assertThat(echo.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void aServiceFallsBackToDefaultsFromEveryLayer() {
        f.etcFile("mancom.defaults.write-buffer.high-water = 128KiB");
        f.homeFile("mancom.services.echo { endpoint = \"tcp://0.0.0.0:7000\", write-buffer.low-water = 1KiB }");

        ServiceSettings echo = f.load().services().get("echo");
        assertThat(echo.writeBuffer()).isEqualTo(new ServiceSettings.WriteBuffer(1024, 128 * 1024, 16L << 20));
        assertThat(f.load().services().get("demo").writeBuffer().highWater()).isEqualTo(128 * 1024);
    }

    @Test
    void xdgConfigHomeWinsOverHomeConfig() {
        f.homeFile("mancom.defaults.connect-timeout = 1s");
        f.xdgFile("mancom.defaults.connect-timeout = 2s");

        assertThat(connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(f.load().layers()).extracting(ConfigLayer::name)
                .contains(tmp.resolve("xdg/mancom/mancom.conf").toString())
                .doesNotContain(f.home.resolve(".config/mancom/mancom.conf").toString());
    }

    @Test
    void emptyOrRelativeXdgConfigHomeFallsBackToHome() {
        f.homeFile("mancom.defaults.connect-timeout = 1s");
        f.env.put("XDG_CONFIG_HOME", "");
        assertThat(connectTimeout()).isEqualTo(Duration.ofSeconds(1));
        f.env.put("XDG_CONFIG_HOME", "relative/dir");
        assertThat(connectTimeout()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void explicitUserConfigDirWinsOverTheEnvironment() {
        f.homeFile("mancom.defaults.connect-timeout = 1s");
        Path dir = tmp.resolve("custom");
        ConfigFixture.write(dir.resolve("mancom.conf"), "mancom.defaults.connect-timeout = 3s");

        RuntimeSettings s = ConfigLoader.load(f.options().withUserConfigDir(dir));
        assertThat(s.services().get("demo").connectTimeout()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void noHomeAndNoXdgSkipsTheUserLayer() {
        f.env.remove("HOME");
        RuntimeSettings s = f.load();
        assertThat(s.layers()).filteredOn(l -> l.name().startsWith("$XDG_CONFIG_HOME"))
                .singleElement().satisfies(l -> {
                    assertThat(l.present()).isFalse();
                    assertThat(l.file()).isEmpty();
                });
    }

    @Test
    void explicitConfigFileReplacesSystemUserAndMancomConfigFiles() {
        f.etcFile("mancom.defaults.handler = discard");
        f.confD("a.conf", "mancom.defaults.connect-timeout = 1s");
        f.homeFile("mancom.defaults.blocking.accept-backlog = 7");
        f.mancomConfig("mancom.io-threads = 3");
        f.configFile = ConfigFixture.write(tmp.resolve("explicit.conf"), "mancom.defaults.connect-timeout = 9s");
        f.props.setProperty("mancom.defaults.reconnect.enabled", "off");
        f.overrides = "mancom.defaults.blocking.read-buffer = 1KiB";

        RuntimeSettings s = f.load();
        ServiceSettings demo = s.services().get("demo");
        assertThat(demo.connectTimeout()).isEqualTo(Duration.ofSeconds(9));
        assertThat(demo.handler()).isEqualTo("echo");
        assertThat(demo.blocking()).isEqualTo(new ServiceSettings.Blocking(1024, 128));
        assertThat(demo.reconnect().enabled()).isFalse();
        assertThat(s.ioThreads()).isZero();
        assertThat(s.layers()).containsExactly(
                new ConfigLayer("reference.conf", Optional.empty(), true),
                new ConfigLayer(f.configFile.toString(), Optional.of(f.configFile), true),
                new ConfigLayer("-Dmancom.*", Optional.empty(), true),
                new ConfigLayer("overrides", Optional.empty(), true));
    }

    @Test
    void layersListsEveryLayerConsultedPresentOrNot() {
        f.confD("a.conf", "mancom.io-threads = 1");
        Path named = f.mancomConfig("mancom.io-threads = 2");

        assertThat(f.load().layers()).containsExactly(
                new ConfigLayer("reference.conf", Optional.empty(), true),
                new ConfigLayer(f.etc.resolve("mancom.conf").toString(), Optional.of(f.etc.resolve("mancom.conf")), false),
                new ConfigLayer(f.etc.resolve("conf.d/a.conf").toString(), Optional.of(f.etc.resolve("conf.d/a.conf")), true),
                new ConfigLayer(f.home.resolve(".config/mancom/mancom.conf").toString(),
                        Optional.of(f.home.resolve(".config/mancom/mancom.conf")), false),
                new ConfigLayer("$MANCOM_CONFIG", Optional.of(named), true),
                new ConfigLayer("-Dmancom.*", Optional.empty(), false),
                new ConfigLayer("overrides", Optional.empty(), false));
    }

    @Test
    void missingFilesAreAbsentLayersNotErrors() {
        assertThat(f.load().layers()).containsExactly(
                new ConfigLayer("reference.conf", Optional.empty(), true),
                new ConfigLayer(f.etc.resolve("mancom.conf").toString(), Optional.of(f.etc.resolve("mancom.conf")), false),
                new ConfigLayer(f.etc.resolve("conf.d/*.conf").toString(), Optional.of(f.etc.resolve("conf.d")), false),
                new ConfigLayer(f.home.resolve(".config/mancom/mancom.conf").toString(),
                        Optional.of(f.home.resolve(".config/mancom/mancom.conf")), false),
                new ConfigLayer("$MANCOM_CONFIG", Optional.empty(), false),
                new ConfigLayer("-Dmancom.*", Optional.empty(), false),
                new ConfigLayer("overrides", Optional.empty(), false));
    }

    @Test
    void systemPropertiesAreStringsThatStillReadAsTypedValues() {
        f.props.setProperty("mancom.io-threads", "4");
        f.props.setProperty("mancom.defaults.reconnect.enabled", "off");
        f.props.setProperty("mancom.defaults.tcp.no-delay", "off");
        f.props.setProperty("mancom.defaults.connect-timeout", "2s");
        f.props.setProperty("mancom.defaults.write-buffer.max-pending", "1MiB");
        f.props.setProperty("mancom.services.p.endpoint", "tcp://localhost:9000");
        f.props.setProperty("mancom.services.p.mux", "on");
        f.props.setProperty("other.property", "ignored");

        RuntimeSettings s = f.load();
        assertThat(s.ioThreads()).isEqualTo(4);
        ServiceSettings p = s.services().get("p");
        assertThat(p.endpoint()).isEqualTo(EndPoint.tcp("localhost", 9000));
        assertThat(p.reconnect().enabled()).isFalse();
        assertThat(p.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.writeBuffer().maxPending()).isEqualTo(1L << 20);
        assertThat(p.config().getBoolean("tcp.no-delay")).isFalse();
        assertThat(p.config().getBoolean("mux.enabled")).isTrue();
        assertThat(s.config().hasPath("other")).isFalse();
    }

    @Test
    void builderIoThreadsOverridesTheConfig() {
        f.etcFile("mancom.io-threads = 3");
        assertThat(f.load().ioThreads()).isEqualTo(3);
        assertThat(ConfigLoader.load(f.options().withIoThreads(5)).ioThreads()).isEqualTo(5);
    }

    @Test
    void servicesAreSortedByName() {
        f.etcFile("mancom.services {",
                "  zeta { endpoint = \"tcp://h:1\" }",
                "  alpha { endpoint = \"tcp://h:2\" }",
                "  \"my.svc-1_x\" { endpoint = \"tcp://h:3\" }",
                "}");
        assertThat(f.load().services().keySet()).containsExactly("alpha", "demo", "my.svc-1_x", "zeta");
    }

    @Test
    void aNullServiceRemovesIt() {
        f.etcFile("mancom.services.echo.endpoint = \"tcp://h:1\"");
        f.homeFile("mancom.services.demo = null");
        assertThat(f.load().services()).containsOnlyKeys("echo");
    }

    @Test
    void substitutionsSeeEveryLayerAndTheBuildersEnvironment() {
        f.env.put("ECHO_PORT", "7007");
        f.etcFile("ports { base = 7000 }",
                "mancom.services.a.endpoint = \"tcp://h:\"${ports.base}",
                "mancom.services.b.endpoint = \"tcp://h:\"${ECHO_PORT}",
                "mancom.services.c { endpoint = \"tcp://h:1\", connect-timeout = ${?NOT_SET} }",
                "mancom.services.d { endpoint = \"tcp://h:2\", connect-timeout = ${mancom.defaults.connect-timeout} }");
        f.homeFile("ports.base = 7100", "mancom.defaults.connect-timeout = 3s");

        RuntimeSettings s = f.load();
        assertThat(s.services().get("a").endpoint()).isEqualTo(EndPoint.tcp("h", 7100));
        assertThat(s.services().get("b").endpoint()).isEqualTo(EndPoint.tcp("h", 7007));
        assertThat(s.services().get("c").connectTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(s.services().get("d").connectTimeout()).isEqualTo(Duration.ofSeconds(3));
        // The environment was only a fallback for substitutions; it does not end up in the config.
        assertThat(s.config().hasPath("ECHO_PORT")).isFalse();
        assertThat(s.config().hasPath("HOME")).isFalse();
        assertThat(s.config().getInt("ports.base")).isEqualTo(7100);
    }

    @Test
    void switchShorthandExpandsInEachLayerBeforeMerging() {
        f.etcFile("mancom.services.t { endpoint = \"tcp://h:1\", mux { max-streams = 7 }, reconnect { max-delay = 9s } }");
        f.homeFile("mancom.services.t { mux = on, reconnect = off }");

        ServiceSettings t = f.load().services().get("t");
        // The later bare switch did not wipe out the earlier block, and the block did not lose the switch.
        assertThat(t.config().getBoolean("mux.enabled")).isTrue();
        assertThat(t.config().getInt("mux.max-streams")).isEqualTo(7);
        assertThat(t.reconnect()).isEqualTo(new ServiceSettings.Reconnect(false, Duration.ofMillis(100),
                Duration.ofSeconds(9)));
    }

    @Test
    void aLaterBlockKeepsAnEarlierSwitch() {
        f.etcFile("mancom.defaults.mux = on");
        f.homeFile("mancom.defaults.mux { max-streams = 9 }", "mancom.services.t.endpoint = \"tcp://h:1\"");

        ServiceSettings t = f.load().services().get("t");
        assertThat(t.config().getBoolean("mux.enabled")).isTrue();
        assertThat(t.config().getInt("mux.max-streams")).isEqualTo(9);
    }

    @Test
    void aSwitchFromASubstitutionIsExpandedToo() {
        f.env.put("USE_MUX", "yes");
        f.etcFile("mancom.services.t { endpoint = \"tcp://h:1\", mux = ${USE_MUX} }",
                "mancom.defaults.reconnect = ${USE_MUX}");

        RuntimeSettings s = f.load();
        assertThat(s.services().get("t").config().getBoolean("mux.enabled")).isTrue();
        assertThat(s.services().get("t").reconnect())
                .isEqualTo(new ServiceSettings.Reconnect(true, Duration.ofMillis(100), Duration.ofSeconds(5)));
    }

    @Test
    void everyReferenceConfOnTheClassPathAddsDefaultsAndAllowedKeys() throws Exception {
        Path jar = tmp.resolve("serial-module");
        ConfigFixture.write(jar.resolve("reference.conf"),
                "mancom.defaults.serial { baud = 9600 }",
                "mancom.cli { color = on }");
        f.etcFile("mancom.services.line { endpoint = \"serial:///dev/ttyS0\", serial.baud = 115200 }",
                "mancom.cli.color = off");

        try (URLClassLoader loader = new URLClassLoader(new URL[]{jar.toUri().toURL()}, getClass().getClassLoader())) {
            RuntimeSettings s = ConfigLoader.load(f.options(), loader);
            assertThat(s.services().get("line").config().getInt("serial.baud")).isEqualTo(115200);
            assertThat(s.services().get("demo").config().getInt("serial.baud")).isEqualTo(9600);
            assertThat(s.services().get("demo").connectTimeout()).isEqualTo(Duration.ofSeconds(5));
            assertThat(s.config().getBoolean("mancom.cli.color")).isFalse();
        }
        // Without that jar the same file is a typo.
        ConfigException e = f.fails();
        assertThat(e.key()).hasValue("mancom.cli");
    }

    @Test
    void loadFileReadsOnlyReferenceAndThatFile() {
        f.etcFile("mancom.io-threads = 3");
        Path file = ConfigFixture.write(tmp.resolve("check.conf"), "mancom.services.x.endpoint = \"tcp://h:5\"");

        RuntimeSettings s = ConfigLoader.loadFile(file);
        assertThat(s.ioThreads()).isZero();
        assertThat(s.services()).containsOnlyKeys("demo", "x");
        assertThat(s.layers()).containsExactly(
                new ConfigLayer("reference.conf", Optional.empty(), true),
                new ConfigLayer(file.toString(), Optional.of(file), true));
    }
}
