package io.mancom.daemon.internal;

import io.mancom.ManCom;
import io.mancom.core.spi.ConfigTools;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestManCom;
import io.mancom.testkit.TestRuntimes;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The set-up of the {@link RelayOwner} tests, real parts only: a socat pty pair is the device (the
 * owner's runtime opens one end, a ManCom runtime of the test, scope = process, is the far end on
 * the other), and every "process" is a real Unix socket connection whose far side runs a responder
 * mux session, as the process side of {@code ManCom-Carry: mux} does.
 */
abstract class RelayTestBase {
    static final Duration T = AttachedProcess.T;
    static final long S = T.toSeconds();

    @TempDir
    Path dir;
    PtyPair pty;
    final TestRuntimes runtimes = new TestRuntimes();
    private final List<AutoCloseable> closing = new ArrayList<>();
    private EventLoopGroup daemonLoops;
    private EventLoopGroup processLoops;
    private int sockets;

    @BeforeEach
    void start() throws IOException {
        boolean ci = "true".equals(System.getenv("CI"));
        assumeTrue(ci || PtyPair.available(), "socat is not installed (apt-get install socat)");
        assumeTrue(ci || Epoll.isAvailable(), "no native epoll: Unix sockets need it");
        pty = PtyPair.start(dir);
        daemonLoops = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        processLoops = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    }

    @AfterEach
    void stop() throws Exception {
        try {
            for (int i = closing.size() - 1; i >= 0; i--) {
                closing.get(i).close();
            }
            runtimes.close();
        } finally {
            if (daemonLoops != null) {
                daemonLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
                processLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            }
            if (pty != null) {
                pty.close();
            }
        }
    }

    // ---- set-up

    /** A far end whose queue is soon full: its writability shows that the line is not read. */
    static final String SMALL_QUEUE = "write-buffer { low-water = 4KiB, high-water = 8KiB }";

    static String line(String name, Path end, boolean mux, String extra) {
        return "mancom.services." + name + " { endpoint = \"serial://" + end + "\", mux = " + (mux ? "on" : "off")
                + (extra.isEmpty() ? "" : ", " + extra) + " }\n";
    }

    /** An owner of the services in {@code hocon} (scope = system), started and ready. */
    RelayOwner owner(String hocon) throws Exception {
        RuntimeSettings loaded = ConfigTools.load(TestManCom.options(hocon));
        List<ServiceSettings> services = new ArrayList<>(loaded.services().values());
        RelayOwner o = new RelayOwner(services, 1, loaded.layers(), loaded.config());
        closing.add(o);
        o.start();
        o.awaitReady(T);
        return o;
    }

    AttachedProcess attach(RelayOwner owner, String service) throws Exception {
        int before = owner.status(service).attached();
        Path socket = Files.createTempDirectory("relay").resolve("attach-" + sockets++ + ".sock");
        AttachedProcess p = AttachedProcess.attach(owner, service, daemonLoops, processLoops, socket);
        closing.add(p);
        Await.until("the process is attached", () -> owner.status(service).attached() == before + 1);
        return p;
    }

    /** Attaches a scripted process to a service whose line is handed over ({@code ManCom-Carry: device}). */
    LineProcess attachLine(RelayOwner owner, String service) throws Exception {
        int before = owner.status(service).attached();
        Path socket = Files.createTempDirectory("relay").resolve("attach-" + sockets++ + ".sock");
        LineProcess p = LineProcess.attach(owner, service, daemonLoops, processLoops, socket);
        closing.add(p);
        Await.until("the process is attached", () -> owner.status(service).attached() == before + 1);
        return p;
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
