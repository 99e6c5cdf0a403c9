package io.mancom.tcp.tls;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
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

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ALPN on a TLS service with {@code alpn = [h2, "http/1.1"]}: curl negotiates HTTP/2 with
 * {@code --http2} and HTTP/1.1 with {@code --http1.1} against a tiny responder that speaks both,
 * and {@code openssl s_client -alpn} shows the protocol the service chose.
 */
@Timeout(120)
class TlsHttpTest {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private final TestRuntimes runtimes = new TestRuntimes();
    @TempDir
    Path dir;
    private Pki ca;
    private int port;

    @BeforeEach
    void serve() throws Exception {
        Tools.require("curl", "curl");
        ca = Pki.create(dir, "ca");
        Pki.Issued server = ca.issue("server", "server.test", "DNS:localhost");
        ManCom m = runtimes.start("mancom.services.web { endpoint = \"tcp://127.0.0.1:0\", tls { cert = \""
                + server.cert() + "\", key = \"" + server.key() + "\", alpn = [h2, \"http/1.1\"] } }");
        m.registerDataReceiver("web", new Responder());
        m.awaitReady(Duration.ofSeconds(20));
        port = ((TcpAddress) m.boundEndPoint("web").orElseThrow().address()).port();
    }

    @AfterEach
    void close() {
        runtimes.close();
    }

    /**
     * Answers one request per connection: HTTP/1.1 after the request's blank line; HTTP/2 after
     * the first HEADERS frame (SETTINGS, its ACK, then HEADERS ":status 200" and DATA on that stream).
     */
    private static final class Responder implements DataReceiver {
        private final Map<Connection, ByteArrayOutputStream> in = new ConcurrentHashMap<>();
        private final Map<Connection, Boolean> answered = new ConcurrentHashMap<>();

        @Override
        public void onData(Connection c, ByteBuffer data) {
            ByteArrayOutputStream b = in.computeIfAbsent(c, k -> new ByteArrayOutputStream());
            byte[] chunk = new byte[data.remaining()];
            data.get(chunk);
            b.writeBytes(chunk);
            byte[] all = b.toByteArray();
            if (answered.containsKey(c)) {
                return;
            }
            if (all.length >= PREFACE.length && Arrays.equals(Arrays.copyOf(all, PREFACE.length), PREFACE)) {
                int stream = firstHeadersStream(all);
                if (stream > 0) {
                    answered.put(c, true);
                    byte[] body = "hello over h2\n".getBytes(StandardCharsets.US_ASCII);
                    c.write(ByteBuffer.wrap(frame(4, 0, 0, new byte[0])));          // SETTINGS
                    c.write(ByteBuffer.wrap(frame(4, 1, 0, new byte[0])));          // SETTINGS ACK
                    c.write(ByteBuffer.wrap(frame(1, 4, stream, new byte[]{(byte) 0x88}))); // :status 200
                    c.write(ByteBuffer.wrap(frame(0, 1, stream, body)));            // DATA, END_STREAM
                }
            } else if (new String(all, StandardCharsets.US_ASCII).contains("\r\n\r\n")) {
                answered.put(c, true);
                String body = "hello over http/1.1\n";
                c.write(ByteBuffer.wrap(("HTTP/1.1 200 OK\r\nContent-Length: " + body.length()
                        + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII)));
                c.close();
            }
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            in.remove(c);
            answered.remove(c);
        }

        private static int firstHeadersStream(byte[] all) {
            int at = PREFACE.length;
            while (at + 9 <= all.length) {
                int len = (all[at] & 0xff) << 16 | (all[at + 1] & 0xff) << 8 | all[at + 2] & 0xff;
                int type = all[at + 3];
                int stream = ((all[at + 5] & 0x7f) << 24) | (all[at + 6] & 0xff) << 16 | (all[at + 7] & 0xff) << 8
                        | all[at + 8] & 0xff;
                if (type == 1) {
                    return stream;
                }
                at += 9 + len;
            }
            return 0;
        }

        private static byte[] frame(int type, int flags, int stream, byte[] payload) {
            ByteBuffer f = ByteBuffer.allocate(9 + payload.length);
            f.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
            f.put((byte) type).put((byte) flags).putInt(stream).put(payload);
            return f.array();
        }
    }

    private Tools.Result curl(String version) {
        return Tools.run(null, new byte[0], 30, List.of("curl", "-sS", version, "--cacert", ca.caCert().toString(),
                "-w", "\\nversion=%{http_version}", "https://localhost:" + port + "/"));
    }

    @Test
    void curlNegotiatesHttp2ByAlpn() {
        Tools.Result r = curl("--http2");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("hello over h2\n\nversion=2");
    }

    @Test
    void curlNegotiatesHttp11ByAlpn() {
        Tools.Result r = curl("--http1.1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("hello over http/1.1\n\nversion=1.1");
    }

    @Test
    void sClientSeesTheProtocolTheServiceChose() {
        assertThat(SClient.handshake(port, "localhost", "-alpn", "h2").alpn()).isEqualTo("h2");
        assertThat(SClient.handshake(port, "localhost", "-alpn", "http/1.1").alpn()).isEqualTo("http/1.1");
        assertThat(SClient.handshake(port, "localhost", "-alpn", "spdy/1,http/1.1").alpn()).isEqualTo("http/1.1");
        SClient.Handshake none = SClient.handshake(port, "localhost", "-alpn", "imap");
        assertThat(none.alpn()).isNull();
        assertThat(none.output()).contains("No ALPN negotiated");
    }
}
