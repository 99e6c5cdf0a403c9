package io.mancom.core.internal.config;

import io.mancom.core.spi.ServiceSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A serial line's default buffers follow its line rate; explicit settings and other transports keep theirs. */
class LineRateBuffersTest {
    @TempDir
    Path tmp;

    private ConfigFixture fixture(String... lines) {
        ConfigFixture f = new ConfigFixture(tmp);
        f.etcFile(lines);
        return f;
    }

    private Map<String, ServiceSettings> load(String... lines) {
        return fixture(lines).load().services();
    }

    @Test
    void aSlowLineGetsTheFloorsAndAFastOneAQuarterSecondOfLineTime() {
        Map<String, ServiceSettings> s = load(
                "mancom.services.slow.endpoint = \"serial:///dev/ttyUSB0?baud=115200\"",
                "mancom.services.fast.endpoint = \"serial:///dev/ttyUSB1?baud=921600\"",
                "mancom.services.parity.endpoint = \"serial:///dev/ttyUSB2?baud=1000000&parity=even&stopbits=2\"");
        // 115200 8N1: 11,520 B/s; a quarter second (2,880 B) is under the 4 KiB floor.
        assertThat(s.get("slow").writeBuffer()).isEqualTo(new ServiceSettings.WriteBuffer(2048, 4096,
                s.get("slow").writeBuffer().maxPending()));
        assertThat(s.get("slow").blocking().readBuffer()).isEqualTo(16384);
        // 921600 8N1: 92,160 B/s.
        assertThat(s.get("fast").writeBuffer().highWater()).isEqualTo(23040);
        assertThat(s.get("fast").writeBuffer().lowWater()).isEqualTo(11520);
        assertThat(s.get("fast").blocking().readBuffer()).isEqualTo(92160);
        // 1,000,000 baud 8E2: 12 bits a byte, 83,333 B/s.
        assertThat(s.get("parity").writeBuffer().highWater()).isEqualTo(20833);
    }

    @Test
    void explicitSettingsWinWhereverTheyAreSet() {
        Map<String, ServiceSettings> s = load(
                "mancom.defaults.blocking.read-buffer = 1MiB",
                "mancom.services.line { endpoint = \"serial:///dev/ttyUSB0?baud=115200\", write-buffer.high-water = 64KiB }");
        assertThat(s.get("line").writeBuffer().highWater()).isEqualTo(65536);
        assertThat(s.get("line").writeBuffer().lowWater()).as("still derived").isEqualTo(2048);
        assertThat(s.get("line").blocking().readBuffer()).isEqualTo(1 << 20);
    }

    @Test
    void otherTransportsKeepTheReferenceValues() {
        Map<String, ServiceSettings> s = load("mancom.services.echo.endpoint = \"tcp://127.0.0.1:7000\"");
        assertThat(s.get("echo").writeBuffer().highWater()).isEqualTo(256 * 1024);
        assertThat(s.get("echo").writeBuffer().lowWater()).isEqualTo(128 * 1024);
        assertThat(s.get("echo").blocking().readBuffer()).isEqualTo(256 * 1024);
    }

    @Test
    void configCheckShowsTheDerivedValueAndWhy() {
        ConfigReport.Service line = ConfigReport.of(fixture("mancom.services.line.endpoint = \"serial:///dev/ttyUSB0?baud=921600\"").load()).services().stream()
                .filter(x -> x.name().equals("line")).findFirst().orElseThrow();
        ConfigReport.Entry high = line.entries().stream().filter(e -> e.key().equals("write-buffer.high-water"))
                .findFirst().orElseThrow();
        assertThat(high.value()).isEqualTo("23040B");
        assertThat(high.source()).contains("derived from baud=921600 (92160 B/s)").contains("0.25 s of line time");
        ConfigReport.Entry read = line.entries().stream().filter(e -> e.key().equals("blocking.read-buffer"))
                .findFirst().orElseThrow();
        assertThat(read.value()).isEqualTo("92160B");
    }
}
