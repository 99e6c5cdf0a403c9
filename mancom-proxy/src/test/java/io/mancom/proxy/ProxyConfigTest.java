package io.mancom.proxy;

import io.mancom.ConfigException;
import io.mancom.core.spi.ConfigTools;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.Settings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The proxy's keys: defaults, parsing, and errors that name the file, line and key. */
class ProxyConfigTest {
    @TempDir
    Path dir;

    @Test
    void aServiceBlockReadsWithTheDefaultsOfMancomProxy() throws Exception {
        Path f = Files.writeString(dir.resolve("web.conf"), """
                mancom.services.web {
                  endpoint = "tcp://127.0.0.1:0"
                  upstream = "h2c://backend.local:8080"
                  upstream-timeout = 5s
                }
                """);
        ProxyConfig c = ProxyConfig.from(Settings.of(ConfigTools.loadFile(f), "web"));

        assertThat(c.upstream()).isEqualTo(new ProxyConfig.Upstream(ProxyConfig.Protocol.H2C, "backend.local", 8080));
        assertThat(c.timeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.connections()).isEqualTo(1);
        assertThat(c.queue()).isEqualTo(4096);
        assertThat(c.maxBody()).isEqualTo(8 << 20);
        assertThat(c.ca()).isEmpty();
    }

    @Test
    void badValuesAreReportedAtTheirFileAndLineAllAtOnce() throws Exception {
        Path f = Files.writeString(dir.resolve("web.conf"), """
                mancom.services.web {
                  endpoint = "tcp://127.0.0.1:0"
                  upstream = "h2c://127.0.0.1"
                  upstream-queue = -1
                }
                """);
        RuntimeSettings runtime = ConfigTools.loadFile(f);

        assertThatThrownBy(() -> ProxyConfig.from(Settings.of(runtime, "web")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("web.conf:3")
                .hasMessageContaining("mancom.services.web.upstream")
                .hasMessageContaining("a host and a port are needed")
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement().extracting(Throwable::getMessage)
                        .asString().contains("web.conf:4").contains("mancom.services.web.upstream-queue"));
    }

    @Test
    void upstreamUrisTakeOnlySchemeHostAndPort() {
        assertThat(ProxyConfig.Upstream.parse("h2://[::1]:8443"))
                .isEqualTo(new ProxyConfig.Upstream(ProxyConfig.Protocol.H2, "::1", 8443));
        assertThat(ProxyConfig.Upstream.parse("http://127.0.0.1:80/").toString()).isEqualTo("http://127.0.0.1:80");
        assertThatThrownBy(() -> ProxyConfig.Upstream.parse("http://127.0.0.1:80/api"))
                .hasMessageContaining("each request keeps its own path");
        assertThatThrownBy(() -> ProxyConfig.Upstream.parse("https://127.0.0.1:443"))
                .hasMessageContaining("the scheme must be h2c, h2 or http");
    }

    @Test
    void commandLineValuesAreCheckedLikeAFile() {
        assertThatThrownBy(() -> ProxyConfig.of(Map.of("upstream", "h2c://127.0.0.1:1", "upstream-conections", "2"),
                "command line"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("upstream-conections")
                .hasMessageContaining("did you mean \"upstream-connections\"");
        assertThatThrownBy(() -> ProxyConfig.of(Map.of("upstream", "http://127.0.0.1:1", "upstream-ca", "/nonexistent"),
                "command line"))
                .hasMessageContaining("only h2:// uses TLS");
    }
}
