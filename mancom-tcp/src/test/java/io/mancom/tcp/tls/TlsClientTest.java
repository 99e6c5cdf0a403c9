package io.mancom.tcp.tls;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.testkit.Pki;
import io.mancom.testkit.SClient;
import io.mancom.testkit.TestRuntimes;
import io.mancom.testkit.Tools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code connect} to a service with {@code tls}: verification is on by default and checked
 * against a real {@code openssl s_server} (right CA, wrong CA, wrong host name, verify = off), and
 * ManCom to ManCom over TLS, plain and with the mux inside TLS.
 */
@Timeout(120)
class TlsClientTest {
    private static final Duration T = Duration.ofSeconds(20);
    private final TestRuntimes runtimes = new TestRuntimes();
    @TempDir
    Path dir;
    private Pki ca;
    private Pki.Issued server;
    private Process sServer;

    @BeforeEach
    void pki() {
        ca = Pki.create(dir, "ca");
        server = ca.issue("server", "server.test", "DNS:localhost");
    }

    @AfterEach
    void close() throws InterruptedException {
        runtimes.close();
        if (sServer != null) {
            sServer.destroy();
            sServer.waitFor();
        }
    }

    /** {@code openssl s_server -rev} (answers each line reversed) on a free port, once it listens. */
    private int sServer() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        sServer = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert",
                server.cert().toString(), "-key", server.key().toString(), "-rev").start();
        Tools.drain(sServer.getErrorStream());
        BufferedReader out = new BufferedReader(new InputStreamReader(sServer.getInputStream(), StandardCharsets.US_ASCII));
        for (String line; (line = out.readLine()) != null; ) {
            if (line.contains("ACCEPT")) {
                Tools.drain(sServer.getInputStream());
                return port;
            }
        }
        throw new AssertionError("openssl s_server ended without listening");
    }

    private ManCom client(String host, int port, String tls) {
        return runtimes.start("mancom.services.up { endpoint = \"tcp://" + host + ":" + port + "\", tls { " + tls + " } }");
    }

    /** A ManCom echo service {@code sec} on a free port with {@code options}; its port. */
    private int echoServer(String options) throws ManComException {
        ManCom srv = runtimes.start("mancom.services.sec { endpoint = \"tcp://127.0.0.1:0\", " + options + " }");
        srv.registerDataReceiver("sec", new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                c.write(data);
            }
        });
        srv.awaitReady(T);
        return ((TcpAddress) srv.boundEndPoint("sec").orElseThrow().address()).port();
    }

    private static String line(BlockingConnection c) throws IOException {
        StringBuilder b = new StringBuilder();
        byte[] one = new byte[1];
        while (!b.toString().endsWith("\n")) {
            assertThat(c.read(one, T)).isEqualTo(1);
            b.append((char) one[0]);
        }
        return b.toString();
    }

    @Test
    void connectsToSServerWithTheRightCa() throws Exception {
        int port = sServer();
        ManCom m = client("localhost", port, "ca = \"" + ca.caCert() + "\"");
        try (BlockingConnection c = m.connect("up")) {
            c.write("hello\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(line(c)).isEqualTo("olleh\n");
        }
    }

    @Test
    void theWrongCaFailsWithAClearMessage() throws Exception {
        int port = sServer();
        Pki otherCa = Pki.create(dir, "other-ca");
        ManCom m = client("localhost", port, "ca = \"" + otherCa.caCert() + "\"");
        assertThatThrownBy(() -> m.connect("up"))
                .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.PROTOCOL))
                .hasMessageContaining("TLS handshake with service 'up' at localhost:" + port)
                .hasMessageContaining("subject CN=server.test, issuer CN=ca")
                .hasMessageContaining("is not signed by the CAs in tls.ca = " + otherCa.caCert());
        // Not configured at all: the JDK's trust store does not know the test CA either.
        ManCom jdk = runtimes.start("mancom.services.up { endpoint = \"tcp://localhost:" + port + "\", tls = on }");
        assertThatThrownBy(() -> jdk.connect("up")).hasMessageContaining("the JDK's trust store");
    }

    @Test
    void theWrongHostNameFailsWithAClearMessage() throws Exception {
        int port = sServer();
        ManCom byIp = client("127.0.0.1", port, "ca = \"" + ca.caCert() + "\"");
        assertThatThrownBy(() -> byIp.connect("up"))
                .isInstanceOf(ManComException.class)
                .hasMessageContaining("is not for host '127.0.0.1'")
                .hasMessageContaining("names [localhost]");
        ManCom byName = client("localhost", port, "ca = \"" + ca.caCert() + "\", server-name = other.test");
        assertThatThrownBy(() -> byName.connect("up")).hasMessageContaining("is not for host 'other.test'");
    }

    @Test
    void verifyOffConnectsAnyway() throws Exception {
        int port = sServer();
        ManCom m = client("127.0.0.1", port, "verify = off");
        try (BlockingConnection c = m.connect("up")) {
            c.write("abc\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(line(c)).isEqualTo("cba\n");
        }
    }

    @Test
    void manComToManComPlainAndWithTheMuxInsideTls() throws Exception {
        for (String mux : new String[]{"off", "on"}) {
            String tls = "tls { cert = \"" + server.cert() + "\", key = \"" + server.key() + "\", ca = \"" + ca.caCert() + "\" }";
            int port = echoServer("mux = " + mux + ", " + tls);
            ManCom cli = runtimes.start("mancom.services.sec { endpoint = \"tcp://localhost:" + port + "\", mux = " + mux
                    + ", listen = off, " + tls + " }");
            byte[] data = new byte[300_000];
            new Random(7).nextBytes(data);
            try (BlockingConnection c = cli.connect("sec")) {
                c.write(data);
                byte[] back = new byte[data.length];
                int got = 0;
                while (got < back.length) {
                    int n = c.read(back, got, back.length - got, T);
                    assertThat(n).as("mux " + mux + ": echo within " + T).isPositive();
                    got += n;
                }
                assertThat(back).as("mux " + mux).isEqualTo(data);
            }
            // What is on the port is TLS (s_client completes a handshake with the service's certificate).
            assertThat(SClient.handshake(port, "localhost").subject()).as("mux " + mux).isEqualTo("CN=server.test");
        }
    }

    @Test
    void aClientPresentsItsCertificateWhenTheServerRequiresOne() throws Exception {
        Pki.Issued clientPair = ca.issue("client", "client.test");
        int port = echoServer("tls { cert = \"" + server.cert() + "\", key = \"" + server.key() + "\", ca = \""
                + ca.caCert() + "\", client-auth = require }");
        ManCom with = client("localhost", port, "ca = \"" + ca.caCert() + "\", cert = \"" + clientPair.cert()
                + "\", key = \"" + clientPair.key() + "\"");
        try (BlockingConnection c = with.connect("up")) {
            c.write("mutual\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(line(c)).isEqualTo("mutual\n");
        }
        // Without one: TLS 1.3 finishes the client's side first, so the refusal arrives as the
        // server's alert on the open connection.
        ManCom without = client("localhost", port, "ca = \"" + ca.caCert() + "\"");
        try (BlockingConnection c = without.connect("up")) {
            assertThatThrownBy(() -> c.read(new byte[1], T)).isInstanceOf(ManComException.class)
                    .hasMessageContaining("certificate_required");
        }
        // TLS 1.2 refuses within the handshake: the connect fails and says what to do.
        ManCom tls12 = client("localhost", port, "ca = \"" + ca.caCert() + "\", protocols = [TLSv1.2]");
        assertThatThrownBy(() -> tls12.connect("up")).isInstanceOf(ManComException.class)
                .hasMessageContaining("set tls.cert and tls.key");
    }
}
