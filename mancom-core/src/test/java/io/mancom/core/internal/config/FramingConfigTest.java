package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code framing} entry: its word forms, its block, and the errors the loader reports. */
class FramingConfigTest {
    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    private Framing framing(String... lines) {
        f.etcFile(lines);
        return Framing.of(f.load().service("s"));
    }

    @Test
    void noneByDefault() {
        assertThat(framing("mancom.services.s.endpoint = \"tcp://h:1\"")).isEqualTo(Framing.NONE);
    }

    @Test
    void linesAsAWordOrABlock() {
        assertThat(framing("mancom.services.s { endpoint = \"tcp://h:1\", framing = lines }"))
                .isEqualTo(new Framing(Framing.Kind.LINES, 0, 1 << 20));
        assertThat(framing("mancom.services.s { endpoint = \"tcp://h:1\", framing { lines = on, max-length = 64KiB } }"))
                .isEqualTo(new Framing(Framing.Kind.LINES, 0, 64 * 1024));
    }

    @Test
    void aLengthField() {
        assertThat(framing("mancom.services.s { endpoint = \"tcp://h:1\", framing { length-field = 2 } }"))
                .isEqualTo(new Framing(Framing.Kind.LENGTH_FIELD, 2, 1 << 20));
    }

    @Test
    void aWordInALaterLayerKeepsAnEarlierBlocksLimit() {
        f.etcFile("mancom.defaults.framing { max-length = 100 }", "mancom.services.s.endpoint = \"tcp://h:1\"");
        f.homeFile("mancom.services.s.framing = lines");

        assertThat(Framing.of(f.load().service("s"))).isEqualTo(new Framing(Framing.Kind.LINES, 0, 100));
    }

    @Test
    void noneInAServiceUndoesLinesInTheDefaults() {
        assertThat(framing("mancom.defaults.framing = lines",
                "mancom.services.s { endpoint = \"tcp://h:1\", framing = none }")).isEqualTo(Framing.NONE);
    }

    @Test
    void anUnknownWordIsAnErrorAtItsLine() {
        f.etcFile("mancom.services.s {", "  endpoint = \"tcp://h:1\"", "  framing = line", "}");

        ConfigException e = f.fails();

        assertThat(e.line()).hasValue(3);
        assertThat(e.key()).hasValue("mancom.services.s.framing");
        assertThat(e.getMessage()).contains("found \"line\" but expected none, lines or a block");
    }

    @Test
    void aLengthFieldNettyCannotWrite() {
        f.etcFile("mancom.services.s {", "  endpoint = \"tcp://h:1\"", "  framing { length-field = 5 }", "}");

        ConfigException e = f.fails();

        assertThat(e.line()).hasValue(3);
        assertThat(e.key()).hasValue("mancom.services.s.framing.length-field");
        assertThat(e.getMessage()).contains("found 5 but expected 1, 2, 3, 4 or 8");
    }

    @Test
    void linesAndALengthFieldTogether() {
        f.etcFile("mancom.services.s { endpoint = \"tcp://h:1\", framing { lines = on, length-field = 4 } }");

        assertThat(f.fails().getMessage()).contains("a service has one framing");
    }

    @Test
    void anUnknownKeyInTheBlock() {
        f.etcFile("mancom.services.s { endpoint = \"tcp://h:1\", framing { max-lenght = 4 } }");

        assertThat(f.fails().getMessage()).contains("mancom.services.s.framing.max-lenght").contains("max-length");
    }

    @Test
    void aWordFollowedByAKeyOfItsBlockInOneFileKeepsBoth() {
        assertThat(framing("mancom.services.s { endpoint = \"tcp://h:1\", framing = lines }",
                "mancom.services.s.framing.max-length = 64KiB"))
                .isEqualTo(new Framing(Framing.Kind.LINES, 0, 64 * 1024));
    }

    @Test
    void aWordAfterAKeyOfItsBlockInOneFileIsAnError() {
        f.etcFile("mancom.services.s.endpoint = \"tcp://h:1\"",
                "mancom.services.s.framing.max-length = 64KiB",
                "mancom.services.s.framing = lines");

        ConfigException e = f.fails();

        assertThat(e.line()).hasValue(3);
        assertThat(e.getMessage()).contains("found framing = lines after framing.max-length in the same file");
    }
}
