package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.spi.ServiceSettings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Sizes no machine can honour are refused where they are written ({@link SizeLimits}): the error
 * names the file, the line, the full key and the maximum; the maximum itself is accepted.
 */
class SizeLimitsTest {

    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    @ParameterizedTest
    @CsvSource({
            "write-buffer.low-water, 1GiB, 2GiB, 1GiB",
            "write-buffer.max-pending, 1GiB, 1TiB, 1GiB",
            "blocking.read-buffer, 1GiB, 1025MiB, 1GiB",
            "mux.receive-buffer, 64GiB, 65GiB, 64GiB",
            "mux.max-streams, 1048576, 1048577, 1048576",
            "mux.accept-backlog, 1048576, 16777216, 1048576",
    })
    void aSizeBeyondItsMaximumIsRefusedAtItsLine(String key, String max, String tooMuch, String shown) {
        // write-buffer's marks must stay ordered: the whole block at its maximum, then one key over it.
        String block = key.startsWith("write-buffer") ? "  write-buffer { low-water = 1GiB, high-water = 1GiB, max-pending = 1GiB }"
                : key.startsWith("mux") ? "  mux = on" : "";
        f.etcFile("mancom.services.big {", "  endpoint = \"tcp://127.0.0.1:7000\"", block, "  " + key + " = " + max, "}");
        assertThat(f.load().services()).containsKey("big");

        Path etc = f.etcFile("mancom.services.big {", "  endpoint = \"tcp://127.0.0.1:7000\"", block,
                "  " + key + " = " + tooMuch, "}");
        ConfigException e = refusedAt(etc, 4, "mancom.services.big." + key);

        assertThat(e.getMessage()).contains("found ").contains(tooMuch).endsWith(" " + shown);
    }

    @Test
    void theMaximaAreInForceForTheDefaultsToo() {
        Path etc = f.etcFile("mancom.defaults {", "  write-buffer.high-water = 4GiB", "}");

        ConfigException e = refusedAt(etc, 2, "mancom.defaults.write-buffer.high-water");

        assertThat(e.getMessage()).contains("from 1 byte to 1GiB");
    }

    private ConfigException refusedAt(Path file, int line, String key) {
        ConfigException e = f.fails();
        assertThat(e.file()).hasValue(file.toString());
        assertThat(e.line()).hasValue(line);
        assertThat(e.key()).hasValue(key);
        return e;
    }

    @Test
    void everySizeAtItsMaximumLoads() {
        f.etcFile("mancom.services.big {",
                "  endpoint = \"tcp://127.0.0.1:7000\"",
                "  write-buffer { low-water = 1GiB, high-water = 1GiB, max-pending = 1GiB }",
                "  blocking.read-buffer = 1GiB",
                "  mux { enabled = on, max-window = 1GiB, receive-buffer = 64GiB, max-streams = 1048576 }",
                "}");

        ServiceSettings big = f.load().services().get("big");

        assertThat(big.writeBuffer().maxPending()).isEqualTo(SizeLimits.MAX_WRITE_BUFFER);
        assertThat(big.blocking().readBuffer()).isEqualTo(SizeLimits.MAX_BLOCKING_READ_BUFFER);
        MuxSettings mux = MuxSettings.of(big);
        assertThat(mux.receiveBuffer()).isEqualTo(SizeLimits.MAX_MUX_RECEIVE_BUFFER);
        assertThat(mux.maxStreams()).isEqualTo(SizeLimits.MAX_MUX_STREAMS);
    }
}
