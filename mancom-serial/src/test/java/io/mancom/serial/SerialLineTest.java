package io.mancom.serial;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.SerialAddress;
import io.mancom.SerialAddress.FlowControl;
import io.mancom.SerialAddress.Parity;
import io.mancom.SerialAddress.StopBits;
import io.mancom.SerialLine;
import io.mancom.serial.internal.PtyPeer;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Line control ({@link SerialLine}) through the public API on real pty pairs: what a pty really
 * shows (its termios settings, a break that does not stop the loop), the clear errors for what it
 * has not (modem lines), and the errors on closed lines, TCP connections and mux streams.
 */
class SerialLineTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private PtyPair pty;
    private ManCom mancom;
    private final List<PtyPeer> peers = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        PtyPair.require();
        pty = PtyPair.start(dir);
    }

    @AfterEach
    void stop() throws IOException {
        if (mancom != null) {
            mancom.close();
        }
        peers.forEach(PtyPeer::close);
        if (pty != null) {
            pty.close();
        }
    }

    private PtyPeer peer(Path end) throws IOException {
        PtyPeer p = new PtyPeer(end);
        peers.add(p);
        return p;
    }

    /** An echo service on pty end a, and its one connection. */
    private Connection echoService(String options) throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"serial://" + pty.a() + options + "\"");
        CompletableFuture<Connection> accepted = new CompletableFuture<>();
        mancom.registerAcceptor("echo", accepted::complete);
        mancom.registerDataReceiver("echo", (c, data) -> c.write(data));
        mancom.awaitReady(T);
        return accepted.get(T.toSeconds(), TimeUnit.SECONDS);
    }

    private void assertEchoes(PtyPeer peer, String text) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        CompletableFuture<byte[]> back = peer.readExactly(b.length);
        peer.write(b);
        assertThat(back.get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(b);
    }

    /** {@code stty -a} of the pty end {@code p}, as the terminal itself reports its settings. */
    private static String stty(Path p) throws Exception {
        Process proc = new ProcessBuilder("stty", "-F", p.toString(), "-a").redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(proc.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(proc.exitValue()).as(out).isZero();
        return out;
    }

    private static List<String> words(String stty) {
        return List.of(stty.split("[\\s;]+"));
    }

    @Test
    void reconfigureChangesBaudAndFramingOfTheOpenLineAndDataKeepsFlowing() throws Exception {
        Connection c = echoService("?baud=115200");
        PtyPeer peer = peer(pty.b());
        assertEchoes(peer, "before");
        SerialLine line = c.serialLine();
        assertThat(line.settings().baud()).isEqualTo(115200);
        assertThat(stty(pty.a())).contains("speed 115200 baud");

        SerialAddress next = line.settings().withBaud(9600).withFraming(7, Parity.EVEN, StopBits.TWO).withFlow(FlowControl.RTSCTS);
        line.reconfigure(next).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);

        assertThat(line.settings()).isEqualTo(next);
        String after = stty(pty.a());
        assertThat(after).contains("speed 9600 baud").contains("min = 0; time = 0;"); // still non-blocking for the loop
        // A Linux pty keeps cs8 and -parenb whatever it is told (pty_set_termios), so 7E shows in
        // the input flags jSerialComm sets with them: istrip (7 bits), inpck (parity checked).
        // -brkint: cleared again after jSerialComm's reconfiguration set it.
        assertThat(words(after)).contains("istrip", "inpck", "cstopb", "crtscts", "-brkint");
        assertThat(c.serialLine()).isSameAs(line);
        // The event loop still serves the descriptor (non-blocking both ways): the echo goes on.
        assertEchoes(peer, "after the change");

        line.reconfigure(next.withBaud(230400).withFraming(8, Parity.NONE, StopBits.ONE).withFlow(FlowControl.NONE))
                .toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(words(stty(pty.a()))).contains("230400", "-istrip", "-inpck", "-cstopb", "-crtscts", "-brkint");
        assertEchoes(peer, "and back");
    }

    @Test
    void reconfigureWorksOnALineServedByThreads() throws Exception {
        // Without epoll loops the line is served by a reader thread with the line's read timeout:
        // a reconfiguration must leave its port blocking with VTIME, or the reader would fail.
        String old = System.getProperty("mancom.native");
        System.setProperty("mancom.native", "false");
        try {
            Connection c = echoService("?baud=115200&timeout=200ms");
            PtyPeer peer = peer(pty.b());
            SerialLine line = c.serialLine();
            line.reconfigure(line.settings().withBaud(19200)).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
            String after = stty(pty.a());
            assertThat(words(after)).contains("19200", "-brkint");
            assertThat(after).contains("min = 0; time = 2;"); // the reader's 200 ms read wait (VTIME) stays

            assertEchoes(peer, "threads after the change");
        } finally {
            if (old == null) {
                System.clearProperty("mancom.native");
            } else {
                System.setProperty("mancom.native", old);
            }
        }
    }

    @Test
    void aBlockingClientReconfiguresItsLine() throws Exception {
        mancom = TestManCom.start("mancom.services.line.endpoint = \"serial://" + pty.b() + "?baud=115200\"");
        try (BlockingConnection c = mancom.connect("line")) {
            SerialLine line = c.serialLine();
            line.reconfigure(line.settings().withBaud(57600)).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
            assertThat(stty(pty.b())).contains("speed 57600 baud");
            PtyPeer peer = peer(pty.a());
            c.write("hi".getBytes(StandardCharsets.US_ASCII));
            assertThat(peer.readExactly(2).get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo("hi".getBytes(StandardCharsets.US_ASCII));
        }
    }

    @Test
    void settingsThePlatformCannotApplyFailWithConfigAndTheOldOnesStay() throws Exception {
        Connection c = echoService("?baud=115200");
        SerialLine line = c.serialLine();
        SerialAddress before = line.settings();
        // termios has no 1.5 stop bits with 8 data bits (docs/serial.md)
        CompletableFuture<Void> f = line.reconfigure(before.withFraming(8, Parity.NONE, StopBits.ONE_POINT_FIVE)).toCompletableFuture();
        assertThatThrownBy(() -> f.get(T.toSeconds(), TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(ManComException.class).hasMessageContaining("stopbits=1.5 needs databits=5")
                .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.CONFIG));
        assertThat(line.settings()).isEqualTo(before);
        assertThat(stty(pty.a())).contains("speed 115200 baud");
        assertThatThrownBy(() -> line.reconfigure(SerialAddress.of(pty.b().toString())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("keeps the device");
    }

    @Test
    void aPtyHasNoModemLinesAndSaysSo() throws Exception {
        Connection c = echoService("");
        SerialLine line = c.serialLine();
        List<ThrowingCall> calls = List.of(() -> line.setDtr(false), () -> line.setRts(true), line::modemStatus,
                () -> line.setModemStatusListener((was, now) -> { }));
        for (ThrowingCall call : calls) {
            assertThatThrownBy(call::run).isInstanceOf(ManComException.class)
                    .hasMessageContaining("serial port " + pty.a() + " is a pseudo-terminal, which has no modem lines")
                    .hasMessageContaining("ENOTTY")
                    .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.IO));
        }
        line.setModemStatusListener(null); // removing none is fine
        assertEchoes(peer(pty.b()), "the line still works");
    }

    @Test
    void aBreakHoldsTheLineForItsDurationWithoutHoldingTheLoop() throws Exception {
        Connection c = echoService("");
        PtyPeer peer = peer(pty.b());
        SerialLine line = c.serialLine();
        long start = System.nanoTime();
        CompletableFuture<Void> brk = line.sendBreak(Duration.ofSeconds(3)).toCompletableFuture();
        long callNanos = System.nanoTime() - start;
        // The break is on: the same connection's loop still echoes (a sleeping break would stall it).
        assertEchoes(peer, "during the break");
        boolean echoedDuringBreak = !brk.isDone();
        brk.get(T.toSeconds(), TimeUnit.SECONDS);
        long took = System.nanoTime() - start;
        assertThat(echoedDuringBreak).as("echo answered before the 3 s break ended").isTrue();
        assertThat(Duration.ofNanos(callNanos)).isLessThan(Duration.ofSeconds(1));
        assertThat(Duration.ofNanos(took)).isGreaterThanOrEqualTo(Duration.ofSeconds(3));
        // A pty has no break: the peer sees no byte for it (no 0, no PARMRK sequence), only the echo.
        assertEchoes(peer, "after");
        assertThatThrownBy(() -> line.sendBreak(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> line.sendBreak(Duration.ofSeconds(11))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aBreakFromInsideACallbackDoesNotBlockIt() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"serial://" + pty.a() + "\"");
        CompletableFuture<Duration> callTook = new CompletableFuture<>();
        CompletableFuture<Boolean> pendingOnReturn = new CompletableFuture<>();
        CompletableFuture<Void> broke = new CompletableFuture<>();
        mancom.registerDataReceiver("echo", (c, data) -> {
            long t0 = System.nanoTime();
            try {
                CompletableFuture<Void> f = c.serialLine().sendBreak(Duration.ofSeconds(2)).toCompletableFuture();
                // A call that held the loop for the break would come back with the break over.
                pendingOnReturn.complete(!f.isDone());
                f.whenComplete((v, e) -> {
                    if (e != null) {
                        broke.completeExceptionally(e);
                    } else {
                        broke.complete(null);
                    }
                });
            } catch (ManComException e) {
                broke.completeExceptionally(e);
            }
            callTook.complete(Duration.ofNanos(System.nanoTime() - t0));
            c.write(data);
        });
        mancom.awaitReady(T);
        PtyPeer peer = peer(pty.b());
        assertEchoes(peer, "x");
        broke.get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(pendingOnReturn.get()).as("the break still on when the call returned").isTrue();
        // Shorter than the break by far, however loaded the machine (it was 400 ms of a 500 ms break).
        assertThat(callTook.get()).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aClosedLineSaysClosed() throws Exception {
        Connection c = echoService("");
        SerialLine line = c.serialLine();
        c.close();
        c.closeFuture().toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
        assertClosed(() -> c.serialLine());
        assertClosed(() -> line.setDtr(true));
        assertClosed(line::modemStatus);
        assertClosed(() -> line.setModemStatusListener((was, now) -> { }));
        assertClosed(() -> join(line.sendBreak(Duration.ofMillis(10))));
        assertClosed(() -> join(line.reconfigure(line.settings().withBaud(9600))));
    }

    @Test
    void aBreakCutShortByACloseFailsWithClosed() throws Exception {
        Connection c = echoService("");
        CompletableFuture<Void> brk = c.serialLine().sendBreak(Duration.ofSeconds(2)).toCompletableFuture();
        c.close();
        assertClosed(() -> join(brk));
    }

    @Test
    void aTcpConnectionIsNotASerialLine() throws Exception {
        mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        mancom.registerDataReceiver("echo", (c, data) -> c.write(data));
        mancom.awaitReady(T);
        try (BlockingConnection c = mancom.connect("echo")) {
            assertThatThrownBy(c::serialLine).isInstanceOf(ManComException.class)
                    .hasMessageContaining("is not a serial line").hasMessageContaining("tcp://")
                    .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.IO));
        }
    }

    @Test
    void aMuxStreamOverASerialLineIsNotASerialLine() throws Exception {
        ManCom b = TestManCom.start("mancom.services.echo { endpoint = \"serial://" + pty.b() + "\", mux { enabled = on } }");
        try {
            b.registerDataReceiver("echo", (c, d) -> c.write(d));
            b.awaitReady(T);
            mancom = TestManCom.start("mancom.services.echo { endpoint = \"serial://" + pty.a() + "\", mux { enabled = on } }");
            Connection s = mancom.connectAsync("echo", (c, d) -> { }).get(T.toSeconds(), TimeUnit.SECONDS);
            assertThatThrownBy(s::serialLine).isInstanceOf(ManComException.class)
                    .hasMessageContaining("stream of a mux over serial://" + pty.a())
                    .hasMessageContaining("mux off")
                    .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.IO));
        } finally {
            b.close();
        }
    }

    private static void join(java.util.concurrent.CompletionStage<?> stage) throws Throwable {
        try {
            stage.toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | CompletionException e) {
            throw e.getCause();
        }
    }

    private static void assertClosed(ThrowingCall call) {
        assertThatThrownBy(call::run).isInstanceOf(ManComException.class).hasMessageContaining("is closed")
                .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.CLOSED));
    }

    @FunctionalInterface
    private interface ThrowingCall {
        void run() throws Throwable;
    }
}
