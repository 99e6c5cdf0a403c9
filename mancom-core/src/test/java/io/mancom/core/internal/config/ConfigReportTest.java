package io.mancom.core.internal.config;

import io.mancom.EndPoint;
import io.mancom.core.spi.ConfigLayer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class ConfigReportTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    private static ConfigReport.Entry entry(ConfigReport.Service s, String key) {
        return s.entries().stream().filter(e -> e.key().equals(key)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + key + " in " + s.entries()));
    }

    @Test
    void everyValueSaysWhereItCameFrom() {
        f.env.put("ECHO_HANDLER", "discard");
        Path etc = f.etcFile(
                "mancom.defaults.connect-timeout = 2s",
                "mancom.services.echo {",
                "  endpoint = \"tcp://0.0.0.0:7000\"",
                "  handler = ${ECHO_HANDLER}",
                "  mux = on",
                "}");
        f.props.setProperty("mancom.services.echo.tcp.backlog", "64");
        f.overrides = "mancom.services.echo.blocking.accept-backlog = 5";

        ConfigReport report = ConfigReport.of(f.load());
        assertThat(report.services()).extracting(ConfigReport.Service::name).containsExactly("demo", "echo");
        ConfigReport.Service echo = report.services().get(1);
        assertThat(echo.endpoint()).isEqualTo(EndPoint.tcp("0.0.0.0", 7000));

        assertThat(entry(echo, "endpoint"))
                .isEqualTo(new ConfigReport.Entry("endpoint", "tcp://0.0.0.0:7000", etc + ":3", false));
        assertThat(entry(echo, "handler"))
                .isEqualTo(new ConfigReport.Entry("handler", "discard", "environment variable $ECHO_HANDLER", false));
        assertThat(entry(echo, "mux.enabled"))
                .isEqualTo(new ConfigReport.Entry("mux.enabled", "on", etc + ":5", false));
        assertThat(entry(echo, "connect-timeout"))
                .isEqualTo(new ConfigReport.Entry("connect-timeout", "2s", etc + ":1", true));
        assertThat(entry(echo, "tcp.backlog"))
                .isEqualTo(new ConfigReport.Entry("tcp.backlog", "64", "system property -Dmancom.services.echo.tcp.backlog", false));
        assertThat(entry(echo, "blocking.accept-backlog"))
                .isEqualTo(new ConfigReport.Entry("blocking.accept-backlog", "5", "overrides", false));
        assertThat(entry(echo, "write-buffer.high-water"))
                .isEqualTo(new ConfigReport.Entry("write-buffer.high-water", "256KiB", "reference.conf (defaults)", true));
        assertThat(echo.entries()).extracting(ConfigReport.Entry::key).isSorted();
    }

    @Test
    void reportsLayersAndGlobals() {
        f.etcFile("mancom.io-threads = 2");

        ConfigReport report = ConfigReport.of(f.load());
        assertThat(report.layers()).first().isEqualTo(new ConfigLayer("reference.conf", Optional.empty(), true));
        assertThat(report.layers()).hasSize(7);
        assertThat(report.globals()).containsExactly(
                new ConfigReport.Entry("mancom.control.enabled", "on", "reference.conf (defaults)", false),
                new ConfigReport.Entry("mancom.daemon.socket", "", "reference.conf (defaults)", false),
                new ConfigReport.Entry("mancom.io-threads", "2", f.etc.resolve("mancom.conf") + ":1", false),
                new ConfigReport.Entry("mancom.metrics.listen", "", "reference.conf (defaults)", false),
                new ConfigReport.Entry("mancom.runtime-dir", "", "reference.conf (defaults)", false));
    }

    @Test
    void builderIoThreadsShowsAsItsOwnSource() {
        ConfigReport report = ConfigReport.of(ConfigLoader.load(f.options().withIoThreads(6)));
        assertThat(report.globals()).contains(
                new ConfigReport.Entry("mancom.io-threads", "6", ConfigReport.BUILDER_SOURCE, false));
    }

    @Test
    void formatIsAReadableTable() {
        Path etc = f.etcFile("mancom.services.demo = null",
                "mancom.defaults.handler = discard",
                "mancom.services.echo.endpoint = \"tcp://0.0.0.0:7000\"");

        String text = ConfigReport.of(f.load()).format();
        assertThat(text).startsWith("Layers (later ones override earlier ones):\n  reference.conf ");
        assertThat(text).containsPattern("\n  " + java.util.regex.Pattern.quote(etc.toString()) + " +present\n");
        assertThat(text).containsPattern("\n  \\$MANCOM_CONFIG +absent\n");
        assertThat(text).containsPattern("\nSettings:\n  mancom.control.enabled = on +reference.conf \\(defaults\\)\n"
                + "  mancom.daemon.socket =  +reference.conf \\(defaults\\)\n"
                + "  mancom.io-threads = 0 +reference.conf \\(defaults\\)\n");
        assertThat(text).contains("\nService echo: tcp://0.0.0.0:7000\n");
        assertThat(text).containsPattern("\n  endpoint = tcp://0.0.0.0:7000 +" + java.util.regex.Pattern.quote(etc + ":3") + "\n");
        assertThat(text).containsPattern("\n  handler = discard +" + java.util.regex.Pattern.quote(etc + ":2") + " \\[default\\]\n");
        assertThat(text).containsPattern("\n  connect-timeout = 5s +reference.conf \\(defaults\\)\n");
        assertThat(text).doesNotContain("Service demo");
        // Values line up in one column per section.
        String[] rows = text.substring(text.indexOf("Service echo")).split("\n");
        int column = rows[1].indexOf("  reference.conf") >= 0 ? rows[1].indexOf("  reference.conf") : -1;
        assertThat(column).isPositive();
        for (int i = 1; i < rows.length; i++) {
            assertThat(rows[i].charAt(column + 2)).as(rows[i]).isNotEqualTo(' ');
            assertThat(rows[i].charAt(column + 1)).as(rows[i]).isEqualTo(' ');
        }
    }
}
