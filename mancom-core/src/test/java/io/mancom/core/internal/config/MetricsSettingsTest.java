package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** mancom.metrics.listen: off by default, HOST:PORT and [v6]:PORT, and the errors naming the key. */
class MetricsSettingsTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    @Test
    void noListenerByDefault() {
        assertThat(MetricsSettings.of(f.load()).listen()).isNull();
    }

    @Test
    void hostAndPort() {
        f.etcFile("mancom.metrics.listen = \"127.0.0.1:9464\"");
        MetricsSettings m = MetricsSettings.of(f.load());
        assertThat(m.listen().getHostString()).isEqualTo("127.0.0.1");
        assertThat(m.listen().getPort()).isEqualTo(9464);
        f.etcFile("mancom.metrics { listen = \"[::1]:0\" }");
        assertThat(MetricsSettings.of(f.load()).listen().getHostString()).isEqualTo("::1");
    }

    @Test
    void aListenWithoutAPortOrWithABadOneIsAnError() {
        for (String bad : new String[] {"9464", "localhost", "127.0.0.1:http", "127.0.0.1:70000", ":9464"}) {
            Path etc = f.etcFile("mancom.metrics.listen = \"" + bad + "\"");
            ConfigException e = f.fails();
            assertThat(e.key()).hasValue("mancom.metrics.listen");
            assertThat(e.getMessage()).startsWith(etc + ":1: mancom.metrics.listen: found \"" + bad
                    + "\" but expected HOST:PORT such as \"127.0.0.1:9464\"");
        }
    }

    @Test
    void anUnknownKeyInTheBlockIsAnError() {
        f.etcFile("mancom.metrics { listen = \"\", port = 9464 }");
        assertThat(f.fails().key()).hasValue("mancom.metrics.port");
    }
}
