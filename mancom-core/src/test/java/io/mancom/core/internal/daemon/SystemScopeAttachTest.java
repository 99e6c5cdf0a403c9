package io.mancom.core.internal.daemon;

import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.Registration;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.internal.mux.MuxStreamAcceptor;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.mancom.testkit.Await;
import io.mancom.testkit.TestManCom;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The process side of scope = system against the protocol of docs/daemon.md, on real Unix and
 * TCP sockets: a fake daemon answers the attach, hands over a real accepted socket or opens mux
 * streams, and the runtime serves them as ordinary connections.
 */
class SystemScopeAttachTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path tmp;
    private Path socket;
    private FakeDaemon daemon;
    private ManCom mancom;

    @BeforeEach
    void setUp() {
        assumeTrue(Epoll.isAvailable(), "needs Linux with Netty's native epoll");
        socket = tmp.resolve("mancomd.sock");
    }

    @AfterEach
    void tearDown() {
        if (mancom != null) {
            mancom.close();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    private ManCom start() {
        mancom = TestManCom.start("mancom.runtime-dir = \"" + tmp.resolve("run") + "\"\n"
                + "mancom.daemon.socket = \"" + socket + "\"\n"
                + "mancom.services.web { endpoint = \"tcp://127.0.0.1:0\", scope = system }\n");
        return mancom;
    }

    /** Echo with callbacks. */
    private static Registration echo(ManCom m) {
        return m.registerDataReceiver("web", (c, data) -> {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            c.write(b);
        });
    }

    @Test
    void withoutADaemonAwaitReadySaysWhichSocketAndHowToStartOne() {
        start();
        echo(mancom);
        assertThatThrownBy(() -> mancom.awaitReady(WAIT))
                .isInstanceOfSatisfying(ManComException.class,
                        e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.UNREACHABLE))
                .hasMessageContaining("service 'web' has scope = system, but no ManCom daemon answers at " + socket)
                .hasMessageContaining("Start one with `mancom daemon`");
    }

    @Test
    void aRefusalIsTheDaemonsReasonAndMessage() throws Exception {
        daemon = new FakeDaemon(socket);
        start();
        echo(mancom);
        FakeDaemon.Attach a = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(a).isNotNull();
        assertThat(a.head()).startsWith("POST /v1/services/web/attach HTTP/1.1\r\n")
                .contains("\r\nUpgrade: mancom-attach/1\r\n").contains("\r\nConnection: Upgrade\r\n")
                .contains("\r\nManCom-Style: callbacks\r\n");
        FakeDaemon.send(a.connection(), FakeDaemon.refusal(403, "PERMISSION_DENIED",
                "user root (uid 0) may not serve service 'web' (allow.users: nobody)"));
        assertThatThrownBy(() -> mancom.awaitReady(WAIT))
                .isInstanceOfSatisfying(ManComException.class,
                        e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.PERMISSION_DENIED))
                .hasMessageContaining("user root (uid 0) may not serve service 'web' (allow.users: nobody)");
    }

    @Test
    void aHandedOverSocketIsServedWithTheBytesThatWaitedAndAcknowledgedFirst() throws Exception {
        daemon = new FakeDaemon(socket);
        BlockingQueue<EpollSocketChannel> accepted = new LinkedBlockingQueue<>();
        EpollServerSocketChannel listener = daemon.listen(accepted);
        int port = listener.localAddress().getPort();
        try (Socket client = new Socket("127.0.0.1", port)) {
            client.setSoTimeout((int) WAIT.toMillis());
            OutputStream out = client.getOutputStream();
            InputStream in = client.getInputStream();
            out.write("sent while nobody served\n".getBytes(StandardCharsets.UTF_8));
            EpollSocketChannel held = accepted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(held).isNotNull();

            start();
            echo(mancom);
            FakeDaemon.Attach a = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            FakeDaemon.send(a.connection(), FakeDaemon.switching("fds", "tcp://127.0.0.1:" + port));
            mancom.awaitReady(WAIT);
            assertThat(mancom.boundEndPoint("web")).hasValueSatisfying(e -> assertThat(e.toString())
                    .isEqualTo("tcp://127.0.0.1:" + port));
            // No descriptor before the process said it reads descriptors.
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("R");

            a.connection().writeAndFlush(new FileDescriptor(held.fd().intValue())).syncUninterruptibly();
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("A");
            held.unsafe().closeForcibly(); // the daemon's copy goes once the process has it

            byte[] expected = "sent while nobody served\n".getBytes(StandardCharsets.UTF_8);
            assertThat(in.readNBytes(expected.length)).isEqualTo(expected);
            out.write("and after\n".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(in.readNBytes(10), StandardCharsets.UTF_8)).isEqualTo("and after\n");
            Await.until("the connection is listed as the service's", () ->
                    mancom.status().services().stream()
                    .anyMatch(st -> st.name().equals("web") && st.connectionsOpen() == 1));
            assertThat(mancom.status().services()).filteredOn(st -> st.name().equals("web")).singleElement()
                    .satisfies(st -> assertThat(st.scope()).isEqualTo(io.mancom.ServiceStatus.Scope.SYSTEM));
        } finally {
            listener.close().syncUninterruptibly();
        }
    }

    /**
     * {@code ManCom-Carry: device}. The "line" here is a connected TCP socket's descriptor (any
     * non-blocking descriptor serves; the daemon's tests hand real ptys over): its bytes waiting
     * before the hand-over are served, A comes before any read, C once the application closed its
     * copy, and a line whose attach connection ends is closed in the process.
     */
    @Test
    void aHandedOverLineIsTheServicesConnectionAndSaysClosedOnceTheApplicationClosedIt() throws Exception {
        daemon = new FakeDaemon(socket);
        BlockingQueue<EpollSocketChannel> accepted = new LinkedBlockingQueue<>();
        EpollServerSocketChannel listener = daemon.listen(accepted);
        int port = listener.localAddress().getPort();
        try (Socket far = new Socket("127.0.0.1", port); Socket far2 = new Socket("127.0.0.1", port)) {
            far.setSoTimeout((int) WAIT.toMillis());
            far.getOutputStream().write("waiting on the line\n".getBytes(StandardCharsets.UTF_8));
            EpollSocketChannel line = accepted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            EpollSocketChannel line2 = accepted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(line).isNotNull();
            assertThat(line2).isNotNull();

            start();
            BlockingQueue<io.mancom.Connection> connections = new LinkedBlockingQueue<>();
            mancom.registerAcceptor("web", connections::add);
            echo(mancom);
            FakeDaemon.Attach a = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            FakeDaemon.send(a.connection(), FakeDaemon.switching("device", "serial:///dev/ttyHANDED"));
            mancom.awaitReady(WAIT);
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("R");

            a.connection().writeAndFlush(new FileDescriptor(line.fd().intValue())).syncUninterruptibly();
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("A");
            byte[] expected = "waiting on the line\n".getBytes(StandardCharsets.UTF_8);
            assertThat(far.getInputStream().readNBytes(expected.length)).isEqualTo(expected);
            io.mancom.Connection c = connections.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(c).isNotNull();
            assertThat(c.remote().toString()).startsWith("serial:///dev/ttyHANDED?baud=115200");

            c.close(); // the application closes the line: its copy closes, then C
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("C");

            // The next line; then the daemon cuts the attach connection: the process lets go of it.
            a.connection().writeAndFlush(new FileDescriptor(line2.fd().intValue())).syncUninterruptibly();
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("A");
            io.mancom.Connection c2 = connections.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(c2).isNotNull();
            a.connection().close().syncUninterruptibly();
            Await.until("the process closed its copy of the line", () -> !c2.isOpen());
            line.unsafe().closeForcibly(); // the daemon's copies
            line2.unsafe().closeForcibly();
        } finally {
            listener.close().syncUninterruptibly();
        }
    }

    @Test
    void aClientThatHalfClosedBeforeTheHandOffStillGetsItsAnswer() throws Exception {
        daemon = new FakeDaemon(socket);
        BlockingQueue<EpollSocketChannel> accepted = new LinkedBlockingQueue<>();
        EpollServerSocketChannel listener = daemon.listen(accepted);
        int port = listener.localAddress().getPort();
        start();
        // The echo answers, and closes once the client has finished (what serve's echo does).
        echo(mancom);
        FakeDaemon.Attach a = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        FakeDaemon.send(a.connection(), FakeDaemon.switching("fds", "tcp://127.0.0.1:" + port));
        mancom.awaitReady(WAIT);
        assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("R");
        try (Socket client = new Socket("127.0.0.1", port)) {
            client.setSoTimeout((int) WAIT.toMillis());
            client.getOutputStream().write("request, then end of input\n".getBytes(StandardCharsets.UTF_8));
            client.shutdownOutput();
            EpollSocketChannel held = accepted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            a.connection().writeAndFlush(new FileDescriptor(held.fd().intValue())).syncUninterruptibly();
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("A");
            held.unsafe().closeForcibly();
            assertThat(new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                    .isEqualTo("request, then end of input\n");
        } finally {
            listener.close().syncUninterruptibly();
        }
    }

    @Test
    void muxStreamsTheDaemonOpensAreConnectionsOfTheService() throws Exception {
        daemon = new FakeDaemon(socket);
        start();
        echo(mancom);
        FakeDaemon.Attach a = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        Channel ch = a.connection();
        BlockingQueue<String> echoed = new LinkedBlockingQueue<>();
        ch.eventLoop().submit(() -> {
            ch.pipeline().remove(ch.pipeline().first());
            ch.writeAndFlush(Unpooled.copiedBuffer(FakeDaemon.switching("mux", "serial:///dev/ttyS9"),
                    StandardCharsets.ISO_8859_1));
            MuxSettings mux = MuxSettings.builder().enabled(true).routing(MuxSettings.Routing.NONE)
                    .role(MuxSettings.Role.INITIATOR).keepaliveInterval(Duration.ZERO).build();
            return MuxSessionHandler.install(ch, mux, MuxSettings.Role.INITIATOR, MuxStreamAcceptor.REFUSE_ALL);
        }).get().openStream("web", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                ctx.writeAndFlush(Unpooled.copiedBuffer("over the line", StandardCharsets.UTF_8));
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ByteBuf b = (ByteBuf) msg;
                echoed.add(b.toString(StandardCharsets.UTF_8));
                b.release();
            }

            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                ctx.close(); // the stream's close cause when the session ends at teardown
            }
        }).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        mancom.awaitReady(WAIT);
        assertThat(mancom.boundEndPoint("web").orElseThrow().toString()).startsWith("serial:///dev/ttyS9");
        StringBuilder got = new StringBuilder();
        while (got.length() < "over the line".length()) {
            String s = echoed.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(s).as("echo over the mux stream").isNotNull();
            got.append(s);
        }
        assertThat(got.toString()).isEqualTo("over the line");
    }

    @Test
    void afterTheDaemonGoesAwayTheServiceAttachesAgain() throws Exception {
        daemon = new FakeDaemon(socket);
        start();
        echo(mancom);
        FakeDaemon.Attach first = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        FakeDaemon.send(first.connection(), FakeDaemon.switching("fds", "tcp://127.0.0.1:1"));
        mancom.awaitReady(WAIT);
        assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("R");
        first.connection().close().syncUninterruptibly();
        FakeDaemon.Attach second = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(second).as("a second attach after the first connection closed").isNotNull();
        assertThat(second.head()).startsWith("POST /v1/services/web/attach HTTP/1.1\r\n");
    }

    @Test
    void unregisteringDetaches() throws Exception {
        daemon = new FakeDaemon(socket);
        start();
        Registration r = echo(mancom);
        FakeDaemon.Attach a = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        FakeDaemon.send(a.connection(), FakeDaemon.switching("fds", "tcp://127.0.0.1:1"));
        mancom.awaitReady(WAIT);
        r.close();
        assertThat(a.connection().closeFuture().await(WAIT.toMillis())).as("the attach connection ends").isTrue();
        assertThat(daemon.attaches.poll(200, TimeUnit.MILLISECONDS)).as("no attach again after an unregister").isNull();
    }

    @Test
    void aProcessThatDetachesClosesItsCopyOfTheLineWithoutAskingForAReopen() throws Exception {
        daemon = new FakeDaemon(socket);
        BlockingQueue<EpollSocketChannel> accepted = new LinkedBlockingQueue<>();
        EpollServerSocketChannel listener = daemon.listen(accepted);
        try (Socket far = new Socket("127.0.0.1", listener.localAddress().getPort())) {
            EpollSocketChannel line = accepted.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            start();
            BlockingQueue<io.mancom.Connection> connections = new LinkedBlockingQueue<>();
            Registration acceptor = mancom.registerAcceptor("web", connections::add);
            Registration r = echo(mancom);
            FakeDaemon.Attach a = daemon.attaches.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            FakeDaemon.send(a.connection(), FakeDaemon.switching("device", "serial:///dev/ttyHANDED"));
            mancom.awaitReady(WAIT);
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("R");
            a.connection().writeAndFlush(new FileDescriptor(line.fd().intValue())).syncUninterruptibly();
            assertThat(daemon.afterHead.poll(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("A");
            io.mancom.Connection c = connections.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(c).isNotNull();

            acceptor.close();
            r.close(); // the last registration: the service detaches
            assertThat(a.connection().closeFuture().await(WAIT.toMillis())).as("the attach connection ends").isTrue();
            Await.until("the process's copy of the line is closed", () -> !c.isOpen());
            // Whatever the process wrote came before the end of the connection: no C among it.
            assertThat(daemon.afterHead.poll()).as("no C: the daemon keeps the line open").isNull();
            line.unsafe().closeForcibly();
        } finally {
            listener.close().syncUninterruptibly();
        }
    }
}
