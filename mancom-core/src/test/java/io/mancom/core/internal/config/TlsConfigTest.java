package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.core.internal.tls.TlsSettings;
import io.mancom.testkit.Pki;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code tls} block: what turns TLS on, relative paths, and the errors the loader (so
 * {@code mancom config check}) reports at the file, line and key: a missing file, a file that is
 * not PEM, a key that does not fit the certificate, an unknown protocol, passthrough with a key
 * pair, TLS on a serial line. Keys and certificates are made with openssl.
 */
class TlsConfigTest {
    @TempDir
    Path tmp;
    ConfigFixture f;
    Pki.Issued pair;
    Pki.Issued other;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
        Pki ca = Pki.create(tmp, "ca");
        pair = ca.issue("server", "server.test", "DNS:localhost");
        other = ca.issue("other", "other.test", "DNS:localhost");
    }

    private TlsSettings tls(String... lines) {
        f.etcFile(lines);
        return TlsSettings.of(f.load().service("s"));
    }

    private ConfigException fails(String... lines) {
        f.etcFile(lines);
        return f.fails();
    }

    @Test
    void offUnlessSetAndOnWithAPair() {
        assertThat(tls("mancom.services.s.endpoint = \"tcp://h:1\"").enabled()).isFalse();
        TlsSettings t = tls("mancom.services.s { endpoint = \"tcp://h:1\"",
                "tls { cert = \"" + pair.cert() + "\", key = \"" + pair.key() + "\", alpn = [h2, \"http/1.1\"],"
                        + " protocols = [TLSv1.3], client-auth = optional } }");
        assertThat(t.terminates()).isTrue();
        assertThat(t.alpn()).containsExactly("h2", "http/1.1");
        assertThat(t.protocols()).containsExactly("TLSv1.3");
        assertThat(t.clientAuth()).isEqualTo(TlsSettings.ClientAuth.OPTIONAL);
        assertThat(tls("mancom.services.s { endpoint = \"tcp://h:1\", tls = on }").terminates()).isTrue();
        // Any key of the block means TLS: verify = off alone must not mean cleartext.
        assertThat(tls("mancom.services.s { endpoint = \"tcp://h:1\", tls { verify = off } }").terminates()).isTrue();
        assertThat(tls("mancom.services.s { endpoint = \"tcp://h:1\", tls { enabled = off, ca = \""
                + pair.cert() + "\" } }").enabled()).isFalse();
    }

    @Test
    void relativePathsAreRelativeToTheirFile() throws Exception {
        Files.createDirectories(f.etc);
        Files.copy(pair.cert(), f.etc.resolve("s.pem"));
        Files.copy(pair.key(), f.etc.resolve("s.key"));
        TlsSettings t = tls("mancom.services.s { endpoint = \"tcp://h:1\", tls { cert = s.pem, key = s.key } }");
        assertThat(t.cert()).isEqualTo(f.etc.resolve("s.pem").toAbsolutePath());
    }

    @Test
    void aMissingFileIsAnErrorAtItsLine() {
        ConfigException e = fails("mancom.services.s {", "  endpoint = \"tcp://h:1\"",
                "  tls.cert = \"" + tmp.resolve("missing.pem") + "\"", "  tls.key = \"" + pair.key() + "\"", "}");
        assertThat(e.line()).hasValue(3);
        assertThat(e.key()).hasValue("mancom.services.s.tls.cert");
        assertThat(e.getMessage()).contains("missing.pem").contains("no such file");
    }

    @Test
    void aFileThatIsNotPemIsAnError() throws Exception {
        Path junk = Files.writeString(tmp.resolve("junk.key"), "this is not a key\n");
        ConfigException e = fails("mancom.services.s {", "  endpoint = \"tcp://h:1\"",
                "  tls { cert = \"" + pair.cert() + "\"", "    key = \"" + junk + "\" }", "}");
        assertThat(e.line()).hasValue(4);
        assertThat(e.key()).hasValue("mancom.services.s.tls.key");
        assertThat(e.getMessage()).contains("junk.key").contains("no -----BEGIN PRIVATE KEY----- block");
    }

    @Test
    void aKeyThatDoesNotFitTheCertificateIsAnError() {
        ConfigException e = fails("mancom.services.s {", "  endpoint = \"tcp://h:1\"",
                "  tls { cert = \"" + pair.cert() + "\"", "    key = \"" + other.key() + "\" }", "}");
        assertThat(e.line()).hasValue(4);
        assertThat(e.key()).hasValue("mancom.services.s.tls.key");
        assertThat(e.getMessage()).contains("does not match the certificate").contains("CN=server.test");
    }

    @Test
    void anUnknownProtocolIsAnError() {
        ConfigException e = fails("mancom.services.s {", "  endpoint = \"tcp://h:1\"", "  tls = on",
                "  tls.protocols = [TLSv1.3, TLSv9]", "}");
        assertThat(e.line()).hasValue(4);
        assertThat(e.key()).hasValue("mancom.services.s.tls.protocols");
        assertThat(e.getMessage()).contains("unknown protocol \"TLSv9\"").contains("TLSv1.3");
    }

    @Test
    void passthroughWithAKeyPairAndTlsOnASerialLineAreErrors() {
        ConfigException e = fails("mancom.services.s {", "  endpoint = \"tcp://h:1\"", "  tls.passthrough = on",
                "  tls.cert = \"" + pair.cert() + "\"", "  tls.key = \"" + pair.key() + "\"", "}");
        assertThat(e.key()).hasValue("mancom.services.s.tls.cert");
        assertThat(e.getMessage()).contains("passthrough");
        assertThat(tls("mancom.services.s { endpoint = \"tcp://h:1\", tls.passthrough = on }").terminates()).isFalse();

        ConfigException serial = fails("mancom.services.s {", "  endpoint = \"serial:///dev/ttyS0\"", "  tls = on", "}");
        assertThat(serial.key()).hasValue("mancom.services.s.tls.enabled");
        assertThat(serial.getMessage()).contains("TCP endpoints only");
    }

    @Test
    void unknownKeysAreErrors() {
        ConfigException e = fails("mancom.services.s { endpoint = \"tcp://h:1\", tls { certt = x } }");
        assertThat(e.getMessage()).contains("did you mean \"cert\"");
        assertThat(List.of(e.key().orElseThrow())).containsExactly("mancom.services.s.tls.certt");
    }
}
