package io.mancom.proxy;

import io.mancom.testkit.Nginx;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code upstream = "h2://..."}: HTTP/2 over TLS to nginx with ALPN h2, its certificate checked
 * against {@code upstream-ca} and the upstream's address; an untrusted certificate is a 502.
 */
class Http2TlsUpstreamTest {
    @TempDir
    Path dir;

    @Test
    void requestsGoOverTlsToATrustedUpstreamAndAnUntrustedOneIs502() throws Exception {
        Nginx.require();
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
        String opensslOut = new String(openssl.getInputStream().readAllBytes());
        assertThat(openssl.waitFor(60, TimeUnit.SECONDS) && openssl.exitValue() == 0).as(opensslOut).isTrue();
        int port = Nginx.freePort();
        String server = "server { listen 127.0.0.1:" + port + " ssl http2; ssl_certificate " + cert + ";"
                + " ssl_certificate_key " + key + "; access_log " + dir + "/tls.log;"
                + " location / { return 200 \"$ssl_protocol $server_protocol $request_uri\\n\"; } }";
        InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        try (Nginx n = Nginx.start(dir.resolve("nginx"), 1, server, List.of(port))) {
            try (ProxyServer p = ProxyServer.start(any, ProxyConfig.of(Map.of("upstream", "h2://127.0.0.1:" + port,
                    "upstream-ca", cert.toString()), "test"), 1); RawHttp c = new RawHttp(p.address(), 30_000)) {
                c.send(RawHttp.get("/over-tls"));
                RawHttp.Response r = c.read();
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.body()).matches("TLSv1\\.[23] HTTP/2\\.0 /over-tls\n");
            }
            // The JVM's trust store does not know the self-signed certificate.
            try (ProxyServer p = ProxyServer.start(any, ProxyConfig.of(Map.of("upstream", "h2://127.0.0.1:" + port),
                    "test"), 1); RawHttp c = new RawHttp(p.address(), 30_000)) {
                c.send(RawHttp.get("/untrusted"));
                RawHttp.Response r = c.read();
                assertThat(r.status()).isEqualTo(502);
                assertThat(r.body()).contains("unreachable");
                assertThat(p.handler().stats().dialFailures()).isGreaterThanOrEqualTo(1);
            }
            assertThat(Files.readString(dir.resolve("tls.log"))).contains("/over-tls").doesNotContain("/untrusted");
        }
    }
}
