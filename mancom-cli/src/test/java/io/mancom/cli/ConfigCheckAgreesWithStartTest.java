package io.mancom.cli;

import io.mancom.ConfigException;
import io.mancom.ManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code mancom config check} rejects what {@code serve} and {@code ManCom.start} reject, with the
 * same message: both go through the one check of the rules across services.
 */
class ConfigCheckAgreesWithStartTest {
    @TempDir
    Path dir;

    private String startFails(Path file) {
        String[] message = new String[1];
        assertThatThrownBy(() -> ManCom.builder().configFile(file).systemConfigDir(dir).start().close())
                .isInstanceOfSatisfying(ConfigException.class, e -> message[0] = e.getMessage());
        return message[0];
    }

    @Test
    void twoServicesOnOneEndpointWithMuxOff() throws IOException {
        Path f = Files.writeString(dir.resolve("shared.conf"), String.join("\n",
                "mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:7071\", mux = on }",
                "  b { endpoint = \"tcp://127.0.0.1:7071\" }",
                "}", ""));

        Cli.Result r = Cli.run("config", "check", f.toString());
        String runtime = startFails(f);

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(runtime).contains("services a, b all use endpoint tcp://127.0.0.1:7071, but 'b' has mux off");
        assertThat(r.err().lines()).containsExactly(runtime);
        assertThat(r.out()).doesNotContain("OK:");
    }

    @Test
    void aMuxValueTheRuntimeRejects() throws IOException {
        Path f = Files.writeString(dir.resolve("mux.conf"),
                "mancom.services.a { endpoint = \"tcp://127.0.0.1:7071\", mux { enabled = on, max-streams = 0 } }\n");

        Cli.Result r = Cli.run("config", "check", f.toString());

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err().lines()).containsExactly(startFails(f));
        assertThat(r.err()).startsWith(f + ":1: mancom.services.a.mux.max-streams: ");
    }
}
