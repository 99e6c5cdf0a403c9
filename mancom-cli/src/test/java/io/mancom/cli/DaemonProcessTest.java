package io.mancom.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainDatagramPacket;
import io.netty.channel.unix.DomainSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code mancom daemon} as a real process: it serves GET /status to curl over its socket, survives
 * a client sending garbage, exits 2 on a bad config and 0 on SIGTERM, reloads on SIGHUP and on
 * {@code mancom daemon reload}, and runs socket-activated by {@code systemd-socket-activate},
 * telling a NOTIFY_SOCKET the test listens on {@code READY=1}.
 */
@Timeout(180)
class DaemonProcessTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Processes procs;

    @AfterEach
    void tearDown() throws InterruptedException {
        if (procs != null) {
            procs.close();
        }
    }

    private Path conf(String services) throws IOException {
        return Files.writeString(dir.resolve("mancom.conf"), String.join("\n",
                "mancom.daemon.socket = \"" + dir.resolve("run/mancomd.sock") + "\"",
                "mancom.services {", services, "}", ""));
    }

    private Process daemon(Path conf) throws IOException {
        procs = procs == null ? new Processes(dir) : procs;
        Process p = procs.mancom("daemon", "--config", conf.toString());
        procs.awaitLine(p, "mancom daemon serving on");
        return p;
    }

    @Test
    void servesStatusOverItsSocketSurvivesGarbageAndStopsWithZeroOnSigterm() throws Exception {
        Process d = daemon(conf("  web { endpoint = \"tcp://127.0.0.1:0\", scope = system }"));
        Path socket = dir.resolve("run/mancomd.sock");

        JsonNode status = JSON.readTree(Processes.curl(socket, "http://mancomd/status"));
        assertThat(status.get("pid").asLong()).isEqualTo(d.pid());
        assertThat(status.get("services").get(0).get("name").asText()).isEqualTo("web");
        assertThat(status.get("services").get(0).get("ready").asBoolean()).isTrue();

        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(new byte[] {0x16, 0x03, 0x01, 0x00, (byte) 0xff, '\r', '\n', '\r', '\n'}));
            String answer = new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).as("garbage gets a 400 and the end of the connection").startsWith("HTTP/1.1 400");
        }
        assertThat(Processes.curl(socket, "http://mancomd/metrics"))
                .contains("mancom_daemon_processes_attached{service=\"web\"} 0");
        assertThat(d.isAlive()).isTrue();

        Processes.kill("TERM", d.pid());
        assertThat(d.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(d.exitValue()).as(procs.stderr(d)).isZero();
        assertThat(socket).as("the socket is removed at stop").doesNotExist();
    }

    @Test
    void aBadConfigExitsWithTwoAndNamesTheKey() throws Exception {
        procs = new Processes(dir);
        Process d = procs.mancom("daemon", "--config",
                conf("  web { endpoint = \"tcp://127.0.0.1:0\", scope = everywhere }").toString());
        assertThat(d.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(d.exitValue()).isEqualTo(Main.CONFIG);
        assertThat(procs.stderr(d)).contains("mancom.services.web.scope").contains("everywhere");
    }

    @Test
    void reloadsOnSighupAndOnMancomDaemonReload() throws Exception {
        // A serial line the daemon owns loads jSerialComm, whose native library would have the
        // process ignore SIGHUP from then on (the daemon takes SIGHUP back at start).
        Processes.requireTool("socat");
        try (PtyPair pty = PtyPair.start(dir.resolve("pty"))) {
            String line = "  line { endpoint = \"serial://" + pty.a() + "\", scope = system }\n";
            Path conf = conf(line + "  a { endpoint = \"tcp://127.0.0.1:0\", scope = system }");
            Process d = daemon(conf);
            Path socket = dir.resolve("run/mancomd.sock");

            conf(line + "  a { endpoint = \"tcp://127.0.0.1:0\", scope = system }\n  b { endpoint = \"tcp://127.0.0.1:0\", scope = system }");
            Cli.Result r = Cli.run("daemon", "reload", "--config", conf.toString());
            assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
            JsonNode report = JSON.readTree(r.out());
            assertThat(report.get("started").toString()).isEqualTo("[\"b\"]");
            assertThat(JSON.convertValue(report.get("kept"), String[].class)).containsExactlyInAnyOrder("a", "line");

            conf(line + "  b { endpoint = \"tcp://127.0.0.1:0\", scope = system }");
            Processes.kill("HUP", d.pid());
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            List<String> names;
            do {
                names = JSON.readTree(Processes.curl(socket, "http://mancomd/status")).get("services").findValuesAsText("name");
            } while (!names.equals(List.of("b", "line")) && System.nanoTime() < end);
            assertThat(names).as("after SIGHUP only b and line are left; daemon:\n" + procs.stderr(d))
                    .containsExactly("b", "line");
            assertThat(d.isAlive()).isTrue();
        }
    }

    @Test
    void mancomDaemonReloadWithoutADaemonSaysHowToStartOne() throws Exception {
        Cli.Result r = Cli.run("daemon", "reload", "--config", conf("").toString());
        assertThat(r.exitCode()).isEqualTo(Main.FAILURE);
        assertThat(r.err()).contains("no daemon answers at " + dir.resolve("run/mancomd.sock")).contains("mancom daemon");
    }

    @Test
    void socketActivatedBySystemdSocketActivateItServesThePassedSocketAndSaysReady() throws Exception {
        String activate = Processes.requireTool("systemd-socket-activate");
        Processes.requireTool("curl");
        Path socket = dir.resolve("activated.sock");
        Path notify = dir.resolve("notify.sock");
        Path conf = Files.writeString(dir.resolve("mancom.conf"), String.join("\n",
                // Not where the daemon is told to listen: it must use what systemd passed.
                "mancom.daemon.socket = \"" + dir.resolve("unused/mancomd.sock") + "\"",
                "mancom.services.web { endpoint = \"tcp://127.0.0.1:0\", scope = system }", ""));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        BlockingQueue<String> notes = new LinkedBlockingQueue<>();
        try {
            Channel listener = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    .handler(new SimpleChannelInboundHandler<DomainDatagramPacket>() {
                        @Override
                        protected void channelRead0(ChannelHandlerContext ctx, DomainDatagramPacket p) {
                            notes.add(p.content().toString(StandardCharsets.UTF_8));
                        }
                    }).bind(new DomainSocketAddress(notify.toFile())).sync().channel();
            procs = new Processes(dir);
            List<String> cmd = new java.util.ArrayList<>(List.of(activate, "-l", socket.toString(),
                    "-E", "NOTIFY_SOCKET=" + notify));
            cmd.addAll(Processes.jvm(Main.class.getName()));
            cmd.addAll(List.of("daemon", "--config", conf.toString()));
            Process p = procs.start(cmd, Map.of());
            Await.until("systemd-socket-activate listens", () -> Files.exists(socket) || !p.isAlive());
            assertThat(socket).as("systemd-socket-activate listens: " + procs.stderr(p)).exists();

            // The first connection makes systemd-socket-activate start the daemon with the socket.
            CompletableFuture<String> status = CompletableFuture.supplyAsync(() -> {
                try {
                    return Processes.curl(socket, "http://mancomd/status");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            String ready = notes.poll(60, TimeUnit.SECONDS);
            assertThat(ready).as("a notification arrived; stderr: " + procs.stderr(p)).isNotNull().contains("READY=1");
            JsonNode s = JSON.readTree(status.get(60, TimeUnit.SECONDS));
            assertThat(s.get("socket").asText()).isEqualTo(socket.toString());
            assertThat(s.get("services").get(0).get("name").asText()).isEqualTo("web");
            assertThat(dir.resolve("unused/mancomd.sock")).doesNotExist();

            // A reload is announced to systemd: RELOADING=1 first, READY=1 once done.
            assertThat(JSON.readTree(Processes.curl(socket, "-X", "POST", "http://mancomd/v1/reload"))
                    .get("kept").toString()).isEqualTo("[\"web\"]");
            assertThat(notes.poll(10, TimeUnit.SECONDS)).startsWith("RELOADING=1\nMONOTONIC_USEC=");
            assertThat(notes.poll(10, TimeUnit.SECONDS)).startsWith("READY=1");

            Processes.kill("TERM", s.get("pid").asLong());
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(procs.stderr(p)).isZero();
            assertThat(notes.poll(10, TimeUnit.SECONDS)).contains("STOPPING=1");
            listener.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
