package io.mancom.tcp;

import io.mancom.testkit.Tools;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.testkit.TestRuntimes;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One port, two HTTP services: curl over HTTP/1.1 and over HTTP/2 with prior knowledge reaches a
 * different service on the same port; and hostile clients (silent, slow partial ClientHello, a
 * request line that never ends, garbage), a thousand at once, are each closed at their bound while
 * curl is still served.
 */
class SharedPortHttpTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }

    /** json (HTTP/1.1, callbacks) and grpc (h2c, a LinkHandler with Netty's HTTP/2 codec) on one port. */
    private ManComRuntime twoHttpServices(String extra) throws Exception {
        ManComRuntime m = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  json { endpoint = \"tcp://127.0.0.1:0\", match = http1 }\n"
                + "  grpc { endpoint = \"tcp://127.0.0.1:0\", match = http2 }\n"
                + extra + "\n}");
        m.registerDataReceiver("json", TinyHttp.http1("json"));
        m.handleLinks("grpc", ch -> TinyHttp.http2(ch, "grpc"));
        m.awaitReady(T);
        return m;
    }

    private static String url(ManCom m) {
        TcpAddress a = (TcpAddress) m.boundEndPoint("json").orElseThrow().address();
        return "http://127.0.0.1:" + a.port() + "/";
    }

    @Test
    void curlReachesTwoServicesOnOnePortByHttpVersion() throws Exception {
        String curl = Tools.require("curl", "curl");
        ManComRuntime m = twoHttpServices("");
        assertThat(m.boundEndPoint("grpc")).isEqualTo(m.boundEndPoint("json"));

        ExternalTools.Result h1 = ExternalTools.run("", curl, "-sS", "--max-time", "10", "--http1.1", url(m));
        ExternalTools.Result h2 = ExternalTools.run("", curl, "-sS", "--max-time", "10", "--http2-prior-knowledge",
                "-w", " %{http_version}", url(m));

        assertThat(h1.output()).isEqualTo("json");
        assertThat(h2.output()).isEqualTo("grpc 2");
    }

    /** What one hostile client sends, and the bound it must be closed at. */
    private enum Hostile { SILENT, PARTIAL_CLIENT_HELLO, ENDLESS_REQUEST_LINE, GARBAGE }

    @Test
    void aThousandHostileClientsAreEachClosedAtTheirBoundWhileGoodClientsAreServed() throws Exception {
        String curl = Tools.require("curl", "curl");
        ManComRuntime m = twoHttpServices(
                "  tlsweb { endpoint = \"tcp://127.0.0.1:0\", match { tls { sni = [x.example] } }, sniff.timeout = 3s }");
        TcpAddress a = (TcpAddress) m.boundEndPoint("json").orElseThrow().address();
        byte[] hello = io.mancom.testkit.ClientHellos.clientHello("x.example");
        byte[] endless = new byte[16 * 1024 + 100];
        Arrays.fill(endless, (byte) 'a');
        System.arraycopy("GET /".getBytes(StandardCharsets.US_ASCII), 0, endless, 0, 5);
        byte[] garbage = new byte[16 * 1024];
        new Random(19).nextBytes(garbage);
        garbage[0] = 0x01; // no rule's first byte

        Map<SocketChannel, Hostile> clients = new HashMap<>();
        Map<SocketChannel, Long> sent = new HashMap<>();
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < 1000; i++) {
                Hostile kind = Hostile.values()[i % 4];
                SocketChannel c = SocketChannel.open(new InetSocketAddress("127.0.0.1", a.port()));
                ByteBuffer out = switch (kind) {
                    case SILENT -> ByteBuffer.allocate(0);
                    case PARTIAL_CLIENT_HELLO -> ByteBuffer.wrap(hello, 0, 40);
                    case ENDLESS_REQUEST_LINE -> ByteBuffer.wrap(endless);
                    case GARBAGE -> ByteBuffer.wrap(garbage);
                };
                try {
                    while (out.hasRemaining()) {
                        c.write(out);
                    }
                } catch (IOException closedWhileWriting) {
                    // The port may close a garbage sender before it has written everything.
                }
                sent.put(c, System.nanoTime());
                c.configureBlocking(false);
                c.register(selector, SelectionKey.OP_READ);
                clients.put(c, kind);
            }
            long peak = usedMemory();

            // Good clients while the slow ones are still held.
            ExternalTools.Result h1 = ExternalTools.run("", curl, "-sS", "--max-time", "10", "--http1.1", url(m));
            ExternalTools.Result h2 = ExternalTools.run("", curl, "-sS", "--max-time", "10", "--http2-prior-knowledge",
                    url(m));
            assertThat(h1.output()).isEqualTo("json");
            assertThat(h2.output()).isEqualTo("grpc");

            Map<Hostile, List<Long>> closedAfterMillis = new HashMap<>();
            ByteBuffer sink = ByteBuffer.allocate(4096);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!selector.keys().isEmpty() && System.nanoTime() < deadline) {
                selector.select(1000);
                for (SelectionKey k : selector.selectedKeys()) {
                    SocketChannel c = (SocketChannel) k.channel();
                    int n;
                    try {
                        sink.clear();
                        n = c.read(sink);
                    } catch (IOException reset) {
                        n = -1;
                    }
                    assertThat(n).as("the port sends nothing to an undecided client").isLessThanOrEqualTo(0);
                    if (n < 0) {
                        closedAfterMillis.computeIfAbsent(clients.get(c), x -> new ArrayList<>())
                                .add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent.get(c)));
                        k.cancel();
                        c.close();
                    }
                }
                selector.selectedKeys().clear();
                selector.selectNow();
            }
            assertThat(selector.keys()).as("connections still open after 30s").isEmpty();

            // The timeout is 3s: the slow ones are closed at it, not before; the others at once.
            for (Hostile slow : List.of(Hostile.SILENT, Hostile.PARTIAL_CLIENT_HELLO)) {
                assertThat(closedAfterMillis.get(slow)).hasSize(250).allSatisfy(ms -> assertThat(ms).isGreaterThan(2500L));
            }
            for (Hostile fast : List.of(Hostile.ENDLESS_REQUEST_LINE, Hostile.GARBAGE)) {
                assertThat(closedAfterMillis.get(fast)).hasSize(250);
            }
            // Bounded: no more than what the sniff bound allows per connection, and much less in fact.
            assertThat(peak).isLessThan(64L << 20);
        }
        String metrics = UnixHttp.get(m.controlSocket().orElseThrow(), "/metrics").body();
        EndPoint port = m.boundEndPoint("json").orElseThrow();
        String ep = "tcp://127.0.0.1:0";
        assertThat(metrics).contains("mancom_sniff_refused_total{endpoint=\"" + ep + "\",reason=\"silent\"} 250.0")
                .contains("mancom_sniff_refused_total{endpoint=\"" + ep + "\",reason=\"timeout\"} 250.0")
                .contains("mancom_sniff_refused_total{endpoint=\"" + ep + "\",reason=\"too-many-bytes\"} 250.0")
                .contains("mancom_sniff_refused_total{endpoint=\"" + ep + "\",reason=\"no-match\"} 250.0");
        assertThat(port).isNotNull();
        // Served once more after the storm.
        assertThat(ExternalTools.run("", curl, "-sS", "--max-time", "10", "--http1.1", url(m)).output()).isEqualTo("json");
    }

    private static long usedMemory() {
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            return p.metric().usedDirectMemory() + p.metric().usedHeapMemory();
        }
        return 0;
    }
}
