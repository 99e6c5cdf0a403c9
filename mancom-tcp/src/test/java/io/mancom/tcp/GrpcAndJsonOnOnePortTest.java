package io.mancom.tcp;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.mancom.TcpAddress;
import io.mancom.core.internal.ManComRuntime;
import io.mancom.testkit.Pki;
import io.mancom.testkit.TestRuntimes;
import io.mancom.testkit.Tools;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The DeMuxer notes' example, for real: a gRPC service (a grpc-java server, reached by a grpc-java
 * client) and a JSON service over HTTP/1.1 (reached by curl) on one ManCom port. Over TLS, ManCom
 * terminates and tells them apart by ALPN ({@code h2} or {@code http/1.1}); in cleartext, by the
 * HTTP/2 client preface (gRPC's prior knowledge) or an HTTP/1 request line. The gRPC service is a
 * {@code handler = forward} to the grpc-java server; the JSON service is answered by the runtime's
 * callbacks. docs/port-sharing.md has the same configuration.
 */
@Timeout(120)
class GrpcAndJsonOnOnePortTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final String JSON = "{\"service\":\"json\",\"ok\":true}";
    private static final MethodDescriptor.Marshaller<String> UTF8 = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream in) {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    /** A unary method with strings for messages: no generated code needed. */
    private static final MethodDescriptor<String, String> SAY = MethodDescriptor.<String, String>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(MethodDescriptor.generateFullMethodName("mancom.Greeter", "Say"))
            .setRequestMarshaller(UTF8).setResponseMarshaller(UTF8).build();

    private final TestRuntimes runtimes = new TestRuntimes();
    private Server grpc;
    private ManagedChannel channel;

    @TempDir
    Path tmp;

    @BeforeEach
    void startGrpcServer() throws IOException {
        // Plain h2c: ManCom terminates TLS in front of it.
        grpc = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(ServerServiceDefinition.builder("mancom.Greeter")
                        .addMethod(SAY, ServerCalls.asyncUnaryCall((String request, io.grpc.stub.StreamObserver<String> reply) -> {
                            reply.onNext("grpc says " + request);
                            reply.onCompleted();
                        }))
                        .build())
                .build().start();
    }

    @AfterEach
    void close() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        runtimes.close();
        grpc.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    private static int port(ManComRuntime m, String service) {
        return ((TcpAddress) m.boundEndPoint(service).orElseThrow().address()).port();
    }

    private String say(String text) {
        return ClientCalls.blockingUnaryCall(channel, SAY, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), text);
    }

    @Test
    void overTlsByAlpn() throws Exception {
        Tools.require("curl", "curl");
        Pki pki = Pki.create(tmp, "test-ca");
        Pki.Issued server = pki.issue("server", "localhost", "DNS:localhost", "IP:127.0.0.1");
        String tls = "cert = \"" + server.cert() + "\", key = \"" + server.key() + "\"";
        ManComRuntime m = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  grpc { endpoint = \"tcp://127.0.0.1:0\", match { tls { alpn = [h2] } }, tls { " + tls + ", alpn = [h2] },"
                + " handler = forward, forward = \"tcp://127.0.0.1:" + grpc.getPort() + "\" }\n"
                + "  json { endpoint = \"tcp://127.0.0.1:0\", match { tls { alpn = [\"http/1.1\"] } },"
                + " tls { " + tls + ", alpn = [\"http/1.1\"] } }\n"
                + "}");
        m.handleLinks("grpc", m.forwarder("grpc"));
        m.registerDataReceiver("json", TinyHttp.http1(JSON));
        m.awaitReady(T);
        int port = port(m, "json");
        assertThat(port(m, "grpc")).isEqualTo(port);

        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).overrideAuthority("localhost")
                .sslContext(GrpcSslContexts.forClient().trustManager(pki.caCert().toFile()).build()).build();
        Tools.Result json = Tools.run(tmp, new byte[0], 30, List.of("curl", "-sS", "--http1.1", "--max-time", "10",
                "--cacert", pki.caCert().toString(), "--resolve", "localhost:" + port + ":127.0.0.1",
                "-w", "\\n%{http_version}", "https://localhost:" + port + "/status"));

        assertThat(say("hello over TLS")).isEqualTo("grpc says hello over TLS");
        assertThat(say("and again, one connection")).isEqualTo("grpc says and again, one connection");
        assertThat(json.out()).as(json.err()).isEqualTo(JSON + "\n1.1");
    }

    @Test
    void inCleartextByTheHttp2PrefaceOrAnHttp1RequestLine() throws Exception {
        Tools.require("curl", "curl");
        ManComRuntime m = (ManComRuntime) runtimes.start("mancom.services {\n"
                + "  grpc { endpoint = \"tcp://127.0.0.1:0\", match = http2, handler = forward,"
                + " forward = \"tcp://127.0.0.1:" + grpc.getPort() + "\" }\n"
                + "  json { endpoint = \"tcp://127.0.0.1:0\", match = http1 }\n"
                + "}");
        m.handleLinks("grpc", m.forwarder("grpc"));
        m.registerDataReceiver("json", TinyHttp.http1(JSON));
        m.awaitReady(T);
        int port = port(m, "json");

        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        Tools.Result json = Tools.run(tmp, new byte[0], 30, List.of("curl", "-sS", "--http1.1", "--max-time", "10",
                "-w", "\\n%{http_version}", "http://127.0.0.1:" + port + "/status"));

        assertThat(say("hello in cleartext")).isEqualTo("grpc says hello in cleartext");
        assertThat(json.out()).as(json.err()).isEqualTo(JSON + "\n1.1");
    }
}
