package io.mancom.cli;

import io.mancom.testkit.Pki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code mancom config check} on {@code tls} blocks: a good one is shown with where each value
 * came from; a key that does not fit its certificate, a missing file and an unknown protocol are
 * each reported at their file and line, exit code 2, no stack trace.
 */
class ConfigCheckTlsTest {
    @TempDir
    Path dir;

    @Test
    void goodAndBadTlsBlocks() throws IOException {
        Pki ca = Pki.create(dir, "ca");
        Pki.Issued a = ca.issue("a", "a.test", "DNS:localhost");
        Pki.Issued b = ca.issue("b", "b.test", "DNS:localhost");

        Path good = Files.writeString(dir.resolve("good.conf"), String.join("\n",
                "mancom.services.api {",
                "  endpoint = \"tcp://127.0.0.1:8443\"",
                "  tls { cert = a.pem, key = a.key, alpn = [h2] }",
                "}", ""));
        Cli.Result ok = Cli.run("config", "check", good.toString());
        assertThat(ok.exitCode()).as(ok.err()).isEqualTo(Main.OK);
        assertThat(ok.out()).contains("tls.cert = a.pem").contains(good + ":3");

        Path bad = Files.writeString(dir.resolve("bad.conf"), String.join("\n",
                "mancom.services {",
                "  api { endpoint = \"tcp://127.0.0.1:8443\"",
                "    tls { cert = \"" + a.cert() + "\"",
                "          key = \"" + b.key() + "\" } }",
                "  web { endpoint = \"tcp://127.0.0.1:8444\"",
                "    tls { cert = missing.pem, key = \"" + b.key() + "\" } }",
                "  old { endpoint = \"tcp://127.0.0.1:8445\"",
                "    tls.protocols = [SSLv9] }",
                "}", ""));
        Cli.Result r = Cli.run("config", "check", bad.toString());
        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err())
                .contains(bad + ":4: mancom.services.api.tls.key:").contains("does not match the certificate (CN=a.test)")
                .contains(bad + ":6: mancom.services.web.tls.cert:").contains("missing.pem").contains("no such file")
                .contains(bad + ":8: mancom.services.old.tls.protocols:").contains("unknown protocol \"SSLv9\"")
                .doesNotContain("\tat ");
    }
}
