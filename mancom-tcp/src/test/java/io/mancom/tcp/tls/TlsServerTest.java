package io.mancom.tcp.tls;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.TlsCertificate;
import io.mancom.testkit.Await;
import io.mancom.testkit.Pki;
import io.mancom.testkit.SClient;
import io.mancom.testkit.TestManCom;
import io.mancom.testkit.TestRuntimes;
import io.mancom.testkit.Tools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TLS termination on a plain TCP service, checked with {@code openssl s_client} as the client:
 * bytes round-trip exactly, certificates reload without a restart, the certificate selector picks
 * by SNI, client-auth = require refuses a client without a certificate, and failed handshakes are
 * closed and counted.
 */
@Timeout(120)
class TlsServerTest {
    private static final Duration T = Duration.ofSeconds(20);
    private final TestRuntimes runtimes = new TestRuntimes();
    private final List<ManCom> extra = new ArrayList<>();
    @TempDir
    Path dir;
    private Pki ca;
    private Pki.Issued server;

    @BeforeEach
    void pki() {
        ca = Pki.create(dir, "ca");
        server = ca.issue("server", "server.test", "DNS:localhost", "IP:127.0.0.1");
    }

    @AfterEach
    void close() {
        extra.forEach(ManCom::close);
        runtimes.close();
    }

    private static String conf(String tls) {
        return "mancom.services.sec { endpoint = \"tcp://127.0.0.1:0\", tls { " + tls + " } }";
    }

    private String pair(Pki.Issued i) {
        return "cert = \"" + i.cert() + "\", key = \"" + i.key() + "\"";
    }

    /** Serves {@code sec} as an echo and returns its port. */
    private static int echo(ManCom m) throws ManComException {
        m.registerDataReceiver("sec", new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                c.write(data);
            }
        });
        m.awaitReady(T);
        return ((TcpAddress) m.boundEndPoint("sec").orElseThrow().address()).port();
    }

    @Test
    void sClientBytesRoundTripExactly() throws Exception {
        int port = echo(runtimes.start(conf(pair(server))));
        byte[] data = new byte[256 * 1024];
        new Random(19).nextBytes(data);
        byte[] back = SClient.exchange(port, "localhost", data, data.length, T);
        assertThat(back).isEqualTo(data);

        SClient.Handshake h = SClient.handshake(port, "localhost", "-CAfile", ca.caCert().toString(),
                "-verify_return_error");
        assertThat(h.subject()).isEqualTo("CN=server.test");
        assertThat(h.output()).contains("Verify return code: 0 (ok)");
    }

    @Test
    void newConnectionsGetTheReloadedCertificateAndOpenOnesKeepTheirs() throws Exception {
        Path cert = dir.resolve("live.pem");
        Path key = dir.resolve("live.key");
        Files.copy(server.cert(), cert);
        Files.copy(server.key(), key);
        ManCom m = runtimes.start(conf("cert = \"" + cert + "\", key = \"" + key + "\""));
        int port = echo(m);
        assertThat(SClient.handshake(port, "localhost").serial()).isEqualTo(server.serial());

        // A connection made before the change: it must go on working after it.
        Pki.Issued next = ca.issue("next", "next.test", "DNS:localhost");
        Process open = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-quiet",
                "-nocommands").start();
        Tools.drain(open.getErrorStream());
        try {
            OutputStream toOld = open.getOutputStream();
            InputStream fromOld = open.getInputStream();
            toOld.write("before\n".getBytes(StandardCharsets.US_ASCII));
            toOld.flush();
            assertThat(new String(fromOld.readNBytes(7), StandardCharsets.US_ASCII)).isEqualTo("before\n");

            // Replaced as a deployment tool would: new files renamed over the old ones.
            Files.copy(next.key(), dir.resolve("tmp.key"));
            Files.copy(next.cert(), dir.resolve("tmp.pem"));
            Files.move(dir.resolve("tmp.key"), key, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.move(dir.resolve("tmp.pem"), cert, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);

            SClient.Handshake after = SClient.handshake(port, "localhost");
            assertThat(after.subject()).isEqualTo("CN=next.test");
            assertThat(after.serial()).isEqualTo(next.serial());

            toOld.write("after\n".getBytes(StandardCharsets.US_ASCII));
            toOld.flush();
            assertThat(new String(fromOld.readNBytes(6), StandardCharsets.US_ASCII)).isEqualTo("after\n");
        } finally {
            open.destroy();
        }

        // A broken file keeps the last good pair.
        Files.writeString(cert, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
        assertThat(SClient.handshake(port, "localhost").serial()).isEqualTo(next.serial());
    }

    @Test
    void theSelectorPicksTheCertificateByServerName() throws Exception {
        Pki.Issued a = ca.issue("a", "a.test", "DNS:a.test");
        Pki.Issued b = ca.issue("b", "b.test", "DNS:b.test");
        List<String> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        ManCom m = TestManCom.builder(conf(pair(server)))
                .certificates(sni -> {
                    asked.add(String.valueOf(sni));
                    return switch (String.valueOf(sni)) {
                        case "a.test" -> TlsCertificate.ofFiles(a.cert(), a.key());
                        case "b.test" -> TlsCertificate.ofPem(read(b.cert()), read(b.key()));
                        default -> null;
                    };
                })
                .start();
        extra.add(m);
        int port = echo(m);
        assertThat(SClient.handshake(port, "a.test").subject()).isEqualTo("CN=a.test");
        assertThat(SClient.handshake(port, "b.test").subject()).isEqualTo("CN=b.test");
        assertThat(SClient.handshake(port, "other.test").subject()).isEqualTo("CN=server.test");
        assertThat(SClient.handshake(port, "a.test").subject()).isEqualTo("CN=a.test");
        assertThat(asked).containsExactly("a.test", "b.test", "other.test", "a.test");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void clientAuthRequireRefusesAClientWithoutACertificate() throws Exception {
        ManCom m = runtimes.start(conf(pair(server) + ", ca = \"" + ca.caCert() + "\", client-auth = require"));
        int port = echo(m);
        Pki.Issued client = ca.issue("client", "client.test");

        byte[] back = SClient.exchange(port, "localhost", "hi\n".getBytes(StandardCharsets.US_ASCII), 3, T,
                "-cert", client.cert().toString(), "-key", client.key().toString());
        assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo("hi\n");

        // Without a certificate: TLS 1.3 ends the handshake on the client's side first; the
        // server then refuses and closes, so nothing comes back.
        byte[] refused = SClient.exchange(port, "localhost", "hi\n".getBytes(StandardCharsets.US_ASCII), 3, T);
        assertThat(refused).isEmpty();
        Await.until("the refused handshake is counted",
                () -> m.status().services().stream().filter(s -> s.name().equals("sec"))
                        .anyMatch(s -> s.errors(ManComException.Reason.PROTOCOL) >= 1));
        assertThat(m.status().services().stream().filter(s -> s.name().equals("sec")).findFirst().orElseThrow()
                .acceptedTotal()).as("only the handshake that succeeded reached the service").isEqualTo(1);
    }

    @Test
    void aClientThatDoesNotSpeakTlsIsClosedAndCounted() throws Exception {
        ManCom m = runtimes.start(conf(pair(server)));
        int port = echo(m);
        for (int i = 0; i < 3; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout((int) T.toMillis());
                assertThat(s.getInputStream().read()).as("closed without an answer").isEqualTo(-1);
            }
        }
        Await.until("three failed handshakes counted",
                () -> m.status().services().stream().filter(s -> s.name().equals("sec"))
                        .anyMatch(s -> s.errors(ManComException.Reason.PROTOCOL) == 3));
        // Good clients are still served.
        assertThat(SClient.exchange(port, "localhost", "ok\n".getBytes(StandardCharsets.US_ASCII), 3, T)).hasSize(3);
    }
}
