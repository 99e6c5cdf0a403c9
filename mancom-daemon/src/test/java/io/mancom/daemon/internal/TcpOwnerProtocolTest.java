package io.mancom.daemon.internal;

import io.mancom.TcpAddress;
import io.mancom.core.spi.ConfigTools;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.testkit.Await;
import io.mancom.testkit.TestManCom;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.FileDescriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fds carry of docs/daemon.md against a real daemon in this JVM ({@link DaemonServer} on a
 * temporary socket, a real loopback listener) and a scripted process ({@link AttachClient}):
 * byte-exact hand-off, acknowledgements, re-queueing of what a process did not acknowledge,
 * round robin, the 64-descriptor bound and the hold bounds.
 */
@Timeout(60)
class TcpOwnerProtocolTest {
    @TempDir
    Path dir;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    private final List<AutoCloseable> open = new ArrayList<>();
    private DaemonServer daemon;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            try {
                open.get(i).close();
            } catch (Exception ignored) {
                // already closed by the test
            }
        }
        if (daemon != null) {
            daemon.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private void start(String serviceExtra) throws IOException {
        daemon = DaemonServer.start(TestManCom.options(String.join("\n",
                "mancom.daemon.socket = \"" + dir.resolve("mancomd.sock") + "\"",
                "mancom.services.web { endpoint = \"tcp://127.0.0.1:0\", scope = system " + serviceExtra + " }")),
                Map.of());
    }

    private int port() {
        return ((TcpAddress) daemon.daemon().owner("web").endpoint("web").address()).port();
    }

    private Owner.OwnerStatus status() {
        return daemon.daemon().owner("web").status("web");
    }

    private AttachClient attach() throws Exception {
        AttachClient c = AttachClient.attach(group, daemon.socket(), "web");
        open.add(c);
        assertThat(c.answer.status().code()).as(c.body()).isEqualTo(101);
        return c;
    }

    private Socket client(String firstBytes) throws IOException {
        Socket s = new Socket("127.0.0.1", port());
        s.setSoTimeout(10_000);
        open.add(s);
        s.getOutputStream().write(firstBytes.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        return s;
    }

    private AttachClient.Adopted adopt(FileDescriptor fd) throws InterruptedException {
        assertThat(fd).as("a descriptor arrived").isNotNull();
        AttachClient.Adopted a = AttachClient.adopt(group, fd);
        open.add(() -> a.channel.close().sync());
        return a;
    }

    private static String readN(Socket s, int n) throws IOException {
        byte[] b = s.getInputStream().readNBytes(n);
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void aPortThatIsTakenLeavesTheOwnerNotReadyWithWhyInsteadOfFailingTheDaemon() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String endpoint = "tcp://127.0.0.1:" + taken.getLocalPort();
            ServiceSettings s = ConfigTools.load(TestManCom.options(
                    "mancom.services.web { endpoint = \"" + endpoint + "\", scope = system }")).services().get("web");
            TcpOwner owner = new TcpOwner(s, group.next()).start();
            open.add(owner::close);
            assertThat(owner.notReady("web")).startsWith("cannot listen on " + endpoint + ": ")
                    .contains("Address already in use");
        }
    }

    @Test
    void heldConnectionIsHandedOverByteExactAndAcknowledged() throws Exception {
        start("");
        Socket c = client("hello before anyone attached");
        Await.until("the connection is held", () -> status().held() == 1);

        AttachClient p = attach();
        assertThat(p.header("ManCom-Carry")).isEqualTo("fds");
        assertThat(p.header("ManCom-EndPoint")).isEqualTo("tcp://127.0.0.1:" + port());
        FileDescriptor fd = p.next(10);
        assertThat(status().handedOver()).as("not handed over before the A").isZero();
        p.ack();
        Await.until("the A counted", () -> status().handedOver() == 1 && status().held() == 0);

        AttachClient.Adopted a = adopt(fd);
        assertThat(a.read(29, 10_000)).isEqualTo("hello before anyone attached");
        a.write("answer from the process");
        assertThat(readN(c, 23)).isEqualTo("answer from the process");
        assertThat(status().attached()).isEqualTo(1);
    }

    @Test
    void whatAProcessDidNotAcknowledgeGoesToTheNextOneWithItsBytes() throws Exception {
        start("");
        AttachClient first = attach();
        Socket c = client("bytes nobody read yet");
        FileDescriptor lost = first.next(10);
        assertThat(lost).isNotNull();
        lost.close(); // the dying process's copy; the daemon keeps its own until an A
        first.close();
        Await.until("back in the queue", () -> status().held() == 1 && status().attached() == 0);

        AttachClient second = attach();
        FileDescriptor fd = second.next(10);
        second.ack();
        AttachClient.Adopted a = adopt(fd);
        assertThat(a.read(21, 10_000)).isEqualTo("bytes nobody read yet");
        a.write("ok");
        assertThat(readN(c, 2)).isEqualTo("ok");
        Await.until("handed over once", () -> status().handedOver() == 1);
    }

    @Test
    void attachedProcessesTakeTurns() throws Exception {
        start("");
        AttachClient a = attach();
        AttachClient b = attach();
        Await.until("both attached", () -> status().attached() == 2);
        StringBuilder order = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            Socket c = client("c" + i);
            Await.until("connection " + i + " given to a process", () -> !a.received.isEmpty() || !b.received.isEmpty());
            AttachClient to = a.received.isEmpty() ? b : a;
            AttachClient other = to == a ? b : a;
            order.append(to == a ? 'a' : 'b');
            FileDescriptor fd = to.received.poll();
            to.ack();
            assertThat(adopt(fd).read(2, 10_000)).isEqualTo("c" + i);
            assertThat(other.received).as("only one process got connection " + i).isEmpty();
            c.close();
        }
        assertThat(order.toString()).isIn("abab", "baba");
    }

    @Test
    void atMost64UnacknowledgedPerAttachTheRestIsHeld() throws Exception {
        start("");
        AttachClient p = attach();
        for (int i = 0; i < FdAttach.MAX_UNACKED + 1; i++) {
            client("x");
        }
        Await.until("64 sent, one held", () -> p.received.size() == FdAttach.MAX_UNACKED && status().held() == 1);
        p.ack();
        Await.until("the 65th sent after one A", () -> p.received.size() == FdAttach.MAX_UNACKED + 1
                && status().held() == 0 && status().handedOver() == 1);
        for (FileDescriptor fd : p.received) {
            fd.close();
        }
    }

    @Test
    void pastHoldConnectionsTheNewestIsClosedAndCounted() throws Exception {
        start(", hold { connections = 2, timeout = 30s }");
        Socket c1 = client("1");
        Socket c2 = client("2");
        Await.until("two held", () -> status().held() == 2);
        Socket c3 = client("3");
        assertClosedByPeer(c3);
        assertThat(status().held()).isEqualTo(2);
        assertThat(daemon.daemon().owner("web").dropped("web")).containsEntry("hold_connections", 1L);

        AttachClient p = attach();
        FileDescriptor f1 = p.next(10);
        p.ack();
        FileDescriptor f2 = p.next(10);
        p.ack();
        assertThat(adopt(f1).read(1, 10_000)).isEqualTo("1");
        assertThat(adopt(f2).read(1, 10_000)).isEqualTo("2");
        assertThat(c1.isClosed() || c2.isClosed()).isFalse();
    }

    @Test
    void pastHoldTimeoutAHeldConnectionIsClosedAndCounted() throws Exception {
        start(", hold { connections = 10, timeout = 300ms }");
        Socket c = client("late");
        assertClosedByPeer(c);
        assertThat(status().held()).isZero();
        assertThat(status().heldTooLong()).isEqualTo(1);
        assertThat(daemon.daemon().owner("web").dropped("web")).containsEntry("hold_timeout", 1L);
    }

    @Test
    void aProcessBreakingTheProtocolIsCutOffAndItsConnectionsGoOn() throws Exception {
        start("");
        AttachClient bad = attach();
        Socket c = client("keep me");
        FileDescriptor fd = bad.next(10);
        fd.close();
        bad.write('X');
        Await.until("the bad attach is closed", () -> !bad.channel.isActive());
        AttachClient good = attach();
        FileDescriptor again = good.next(10);
        good.ack();
        assertThat(adopt(again).read(7, 10_000)).isEqualTo("keep me");
    }

    private static void assertClosedByPeer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            assertThat(in.read()).as("end of stream: the daemon closed it").isEqualTo(-1);
        } catch (SocketException reset) {
            // a reset is a close too (the daemon closed it with our bytes unread)
        }
    }
}
