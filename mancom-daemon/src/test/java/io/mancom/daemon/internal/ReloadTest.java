package io.mancom.daemon.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.TcpAddress;
import io.mancom.spi.RuntimeOptions;
import io.mancom.testkit.Await;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.FileDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Reload on a real daemon in this JVM with a config file rewritten between reloads: a service
 * whose port changed moves (its processes are detached to re-attach), another keeps its owner,
 * its attach connection and the connection it handed over.
 */
@Timeout(60)
class ReloadTest {
    @TempDir
    Path dir;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    private DaemonServer daemon;

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private Path write(int portA) throws IOException {
        return Files.writeString(dir.resolve("mancom.conf"), String.join("\n",
                "mancom.daemon.socket = \"" + dir.resolve("mancomd.sock") + "\"",
                "mancom.services {",
                "  a { endpoint = \"tcp://127.0.0.1:" + portA + "\", scope = system }",
                "  b { endpoint = \"tcp://127.0.0.1:0\", scope = system }",
                "}", ""));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private int port(String service) {
        return ((TcpAddress) daemon.daemon().owner(service).endpoint(service).address()).port();
    }

    @Test
    void aMovedServiceMovesAndTheOtherKeepsEveryConnection() throws Exception {
        int before = freePort();
        Path conf = write(before);
        daemon = DaemonServer.start(RuntimeOptions.defaults().withSystemConfigDir(dir.resolve("etc"))
                .withUserConfigDir(dir.resolve("user")).withEnvironment(Map.of())
                .withSystemProperties(new Properties()).withConfigFile(conf), Map.of());
        Owner ownerB = daemon.daemon().owner("b");

        try (AttachClient pa = AttachClient.attach(group, daemon.socket(), "a");
             AttachClient pb = AttachClient.attach(group, daemon.socket(), "b");
             Socket client = new Socket("127.0.0.1", port("b"))) {
            client.setSoTimeout(10_000);
            client.getOutputStream().write("before".getBytes(StandardCharsets.UTF_8));
            FileDescriptor fd = pb.next(10);
            pb.ack();
            AttachClient.Adopted conn = AttachClient.adopt(group, fd);
            assertThat(conn.read(6, 10_000)).isEqualTo("before");

            int after = freePort();
            write(after);
            JsonNode report = new ObjectMapper().readTree(daemon.reload());

            assertThat(report.get("ok").asBoolean()).isTrue();
            assertThat(report.get("restarted").toString()).isEqualTo("[\"a\"]");
            assertThat(report.get("kept").toString()).isEqualTo("[\"b\"]");
            assertThat(port("a")).isEqualTo(after);
            assertThatThrownBy(() -> new Socket("127.0.0.1", before).close()).isInstanceOf(ConnectException.class);
            new Socket("127.0.0.1", after).close();
            Await.until("a's process is detached (to re-attach to the moved service)", () -> !pa.channel.isActive());

            assertThat(daemon.daemon().owner("b")).isSameAs(ownerB);
            assertThat(pb.channel.isActive()).isTrue();
            conn.write("still here");
            assertThat(new String(client.getInputStream().readNBytes(10), StandardCharsets.UTF_8)).isEqualTo("still here");
            client.getOutputStream().write("after".getBytes(StandardCharsets.UTF_8));
            assertThat(conn.read(11, 10_000)).isEqualTo("beforeafter");
            conn.channel.close().sync();
        }
    }

    @Test
    void aChangeOfHoldOrAllowOnlyKeepsTheListenerAndTheHeldConnections() throws Exception {
        Path conf = write(0);
        daemon = DaemonServer.start(RuntimeOptions.defaults().withSystemConfigDir(dir.resolve("etc"))
                .withUserConfigDir(dir.resolve("user")).withEnvironment(Map.of())
                .withSystemProperties(new Properties()).withConfigFile(conf), Map.of());
        Owner b = daemon.daemon().owner("b");
        int port = port("b");
        try (Socket held = new Socket("127.0.0.1", port)) {
            held.getOutputStream().write("waiting".getBytes(StandardCharsets.UTF_8));
            Await.until("held", () -> b.status("b").held() == 1);
            Files.writeString(conf, String.join("\n",
                    "mancom.daemon.socket = \"" + dir.resolve("mancomd.sock") + "\"",
                    "mancom.services {",
                    "  a { endpoint = \"tcp://127.0.0.1:0\", scope = system }",
                    "  b { endpoint = \"tcp://127.0.0.1:0\", scope = system, hold { timeout = 1h }, allow { users = [root, 0] } }",
                    "}", ""));
            JsonNode report = new ObjectMapper().readTree(daemon.reload());
            assertThat(report.get("kept").toString()).contains("\"b\"");
            assertThat(daemon.daemon().owner("b")).isSameAs(b);
            assertThat(port("b")).isEqualTo(port);
            assertThat(b.status("b").held()).isEqualTo(1);
            assertThat(daemon.daemon().settings("b").config().getStringList("allow.users")).containsExactly("root", "0");

            try (AttachClient p = AttachClient.attach(group, daemon.socket(), "b")) {
                FileDescriptor fd = p.next(10);
                p.ack();
                AttachClient.Adopted a = AttachClient.adopt(group, fd);
                assertThat(a.read(7, 10_000)).isEqualTo("waiting");
                a.channel.close().sync();
            }
        }
    }

    @Test
    void aBrokenConfigChangesNothing() throws Exception {
        Path conf = write(0);
        daemon = DaemonServer.start(RuntimeOptions.defaults().withSystemConfigDir(dir.resolve("etc"))
                .withUserConfigDir(dir.resolve("user")).withEnvironment(Map.of())
                .withSystemProperties(new Properties()).withConfigFile(conf), Map.of());
        Owner a = daemon.daemon().owner("a");
        Files.writeString(conf, "mancom.services.a { endpoint = \"tcp://127.0.0.1:0\", scope = everywhere }\n");
        JsonNode report = new ObjectMapper().readTree(daemon.reload());
        assertThat(report.get("ok").asBoolean()).isFalse();
        assertThat(report.get("error").asText()).contains("scope");
        assertThat(daemon.daemon().owner("a")).isSameAs(a);
        assertThat(daemon.daemon().services()).containsExactly("a", "b");
    }
}
