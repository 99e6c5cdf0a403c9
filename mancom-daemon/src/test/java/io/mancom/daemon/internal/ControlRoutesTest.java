package io.mancom.daemon.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.testkit.TestManCom;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The control socket's routes and refusals, on a real daemon in this JVM: each request is a raw
 * HTTP/1.1 exchange over a JDK Unix socket, as curl would send it.
 */
@Timeout(60)
class ControlRoutesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private DaemonServer daemon;
    /** A port this test holds, so the daemon cannot listen on it: its service is NOT_READY. */
    private ServerSocket taken;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        if (taken != null) {
            taken.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private void start() throws IOException {
        taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        daemon = DaemonServer.start(TestManCom.options(String.join("\n",
                "mancom.daemon.socket = \"" + dir.resolve("run/mancomd.sock") + "\"",
                "mancom.services {",
                "  web { endpoint = \"tcp://127.0.0.1:0\", scope = system }",
                "  guarded { endpoint = \"tcp://127.0.0.1:0\", scope = system, allow { users = [nobody] } }",
                "  line { endpoint = \"serial:///dev/ttyNOWHERE\", scope = system }",
                "  busy { endpoint = \"tcp://127.0.0.1:" + taken.getLocalPort() + "\", scope = system }",
                "  mine { endpoint = \"tcp://127.0.0.1:0\" }",
                "}")), Map.of());
    }

    /** Sends {@code request} as is; returns everything the daemon sent until it closed. */
    private String exchange(String request) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(daemon.socket()));
            ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
            return new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String attachRequest(String service) {
        return "POST /v1/services/" + service + "/attach HTTP/1.1\r\nHost: mancomd\r\nUpgrade: mancom-attach/1\r\n"
                + "Connection: Upgrade\r\nManCom-Style: blocking\r\nContent-Length: 0\r\n\r\n";
    }

    private static JsonNode body(String answer) throws IOException {
        return JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
    }

    @Test
    void statusListsTheSystemServicesOnly() throws Exception {
        start();
        String a = exchange("GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(a).startsWith("HTTP/1.1 200");
        JsonNode s = body(a);
        assertThat(s.get("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
        assertThat(s.get("services").findValuesAsText("name")).containsExactly("busy", "guarded", "line", "web");
        JsonNode web = s.get("services").get(3);
        assertThat(web.get("carry").asText()).isEqualTo("fds");
        assertThat(web.get("ready").asBoolean()).isTrue();
        assertThat(web.get("endpoint").asText()).matches("tcp://127\\.0\\.0\\.1:[1-9][0-9]*");
        JsonNode busy = s.get("services").get(0);
        assertThat(busy.get("ready").asBoolean()).isFalse();
        assertThat(busy.get("notReady").asText()).contains("cannot listen on tcp://127.0.0.1:" + taken.getLocalPort());
        // A device that is not there yet is not a refusal: the relay owner keeps opening it, and
        // processes may attach meanwhile.
        JsonNode line = s.get("services").get(2);
        assertThat(line.get("carry").asText()).isEqualTo("device"); // mux off: the line is handed over
        assertThat(line.get("ready").asBoolean()).isTrue();
    }

    @Test
    void socketAndDirectoryModesFollowTheMancomGroup() throws Exception {
        // Root on a machine with a group mancom: shared with the group; otherwise owner-only.
        boolean shared = Credentials.myUid() == 0 && new Credentials().gid("mancom") >= 0;
        start();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(daemon.socket())))
                .isEqualTo(shared ? "rw-rw----" : "rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(daemon.socket().getParent())))
                .isEqualTo(shared ? "rwxrwx---" : "rwx------");
        if (shared) {
            assertThat(Files.getAttribute(daemon.socket(), "unix:gid")).isEqualTo(new Credentials().gid("mancom"));
        }
    }

    @Test
    void metricsAreTheDaemonsPerService() throws Exception {
        start();
        String a = exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertThat(a).startsWith("HTTP/1.1 200").contains("text/plain")
                .contains("mancom_daemon_processes_attached{service=\"web\"} 0")
                .contains("mancom_daemon_connections_held{service=\"web\"} 0")
                .contains("mancom_daemon_connections_handed_over_total{service=\"web\"} 0")
                .contains("mancom_daemon_connections_dropped_total{reason=\"hold_timeout\",service=\"web\"} 0");
    }

    @Test
    void garbageIsAnsweredWith400AndCutOffAndTheDaemonGoesOn() throws Exception {
        start();
        String a = exchange("\u0001\u0002garbage\u00ff\r\n\r\n");
        assertThat(a).startsWith("HTTP/1.1 400").contains("\"reason\":\"PROTOCOL\"");
        // A request line longer than the bound: cut off without buffering it all (the 400 may be
        // lost: the daemon closes with the client's bytes unread, and the kernel then resets).
        try {
            assertThat(exchange("GET /" + "x".repeat(100_000) + " HTTP/1.1\r\n\r\n")).startsWith("HTTP/1.1 400");
        } catch (java.net.SocketException reset) {
            assertThat(reset.getMessage()).containsAnyOf("reset", "Broken pipe");
        }
        assertThat(exchange("GET /status HTTP/1.1\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
    }

    @Test
    void aUserNotAllowedIsRefusedWithPermissionDeniedNamingServiceAndUser() throws Exception {
        start();
        String a = exchange(attachRequest("guarded"));
        assertThat(a).startsWith("HTTP/1.1 403");
        JsonNode e = body(a);
        assertThat(e.get("reason").asText()).isEqualTo("PERMISSION_DENIED");
        String me = System.getProperty("user.name");
        assertThat(e.get("message").asText()).contains("'guarded'").contains("user " + me).contains("nobody");
    }

    @Test
    void unknownServiceNotReadyAndMalformedAttachAreRefusedByName() throws Exception {
        start();
        JsonNode unknown = body(exchange(attachRequest("nosuch")));
        assertThat(unknown.get("reason").asText()).isEqualTo("UNKNOWN_SERVICE");
        assertThat(unknown.get("message").asText()).contains("nosuch").contains("busy, guarded, line, web");
        // A process-scope service is not the daemon's.
        assertThat(body(exchange(attachRequest("mine"))).get("reason").asText()).isEqualTo("UNKNOWN_SERVICE");
        String busy = exchange(attachRequest("busy"));
        assertThat(busy).startsWith("HTTP/1.1 503");
        assertThat(body(busy).get("reason").asText()).isEqualTo("NOT_READY");
        assertThat(body(busy).get("message").asText()).contains("cannot listen on");
        String noUpgrade = exchange("POST /v1/services/web/attach HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
        assertThat(noUpgrade).startsWith("HTTP/1.1 400");
        assertThat(body(noUpgrade).get("reason").asText()).isEqualTo("PROTOCOL");
    }

    @Test
    void aSecondDaemonOnTheSameSocketRefusesToStartAndAStaleSocketIsReplaced() throws Exception {
        start();
        assertThatThrownBy(() -> DaemonServer.start(TestManCom.options(
                "mancom.daemon.socket = \"" + daemon.socket() + "\""), Map.of()))
                .isInstanceOf(ControlSocket.AlreadyRunning.class)
                .hasMessageContaining("a daemon already runs at " + daemon.socket());
        daemon.close();
        daemon = null;
        // A socket file with nobody behind it, as a kill -9 leaves it (the JDK leaves the file at close).
        Path stale = dir.resolve("stale.sock");
        java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(stale))
                .close();
        assertThat(stale).exists();
        daemon = DaemonServer.start(TestManCom.options("mancom.daemon.socket = \"" + stale + "\""), Map.of());
        assertThat(exchange("GET /status HTTP/1.1\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
    }
}
