package io.mancom.nativeshim;

import io.mancom.testkit.Pki;
import io.mancom.testkit.SClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The C certificate callback ({@code mancom_set_certificate_callback}): a compiled C program
 * serves a TLS echo and picks the certificate by SNI, as files, as PEM text, or the configured
 * default; a negative answer refuses the handshake. The client is {@code openssl s_client}.
 */
@Timeout(180)
class CTlsTest {
    private static final Duration T = Duration.ofSeconds(30);
    @TempDir
    Path dir;

    @Test
    void theCallbackPicksTheCertificateByServerName() throws Exception {
        Pki ca = Pki.create(dir, "ca");
        Pki.Issued def = ca.issue("default", "default.test", "DNS:localhost");
        Pki.Issued b = ca.issue("b", "b.test", "DNS:b.test");
        Pki.Issued c = ca.issue("c", "c.test", "DNS:c.test");
        int port = CPrograms.freePort();
        Path config = CPrograms.config(dir, "mancom.services.sec { endpoint = \"tcp://127.0.0.1:" + port + "\", tls { cert = \""
                + def.cert() + "\", key = \"" + def.key() + "\" } }");
        try (CProcess server = CPrograms.start(CPrograms.test("tls_sni"), config, List.of(b.cert().toString(),
                b.key().toString(), c.cert().toString(), c.key().toString()))) {
            server.awaitLine("serving 'sec'", T);
            assertThat(SClient.handshake(port, "b.test").subject()).isEqualTo("CN=b.test");
            server.awaitLine("asked for b.test", T);
            assertThat(SClient.handshake(port, "c.test").subject()).isEqualTo("CN=c.test");
            assertThat(SClient.handshake(port, "other.test").subject()).isEqualTo("CN=default.test");
            assertThat(SClient.handshake(port, null, "-noservername").subject()).isEqualTo("CN=default.test");
            server.awaitLine("asked for (none)", T);
            SClient.Handshake refused = SClient.handshake(port, "refuse.test");
            assertThat(refused.cert()).as(refused.output()).isNull();
            byte[] echo = SClient.exchange(port, "c.test", "through C\n".getBytes(StandardCharsets.US_ASCII), 10, T);
            assertThat(new String(echo, StandardCharsets.US_ASCII)).isEqualTo("through C\n");
            assertThat(server.stop(T)).as(server.output()).isZero();
        }
    }
}
