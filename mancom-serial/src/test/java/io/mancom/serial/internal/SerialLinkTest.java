package io.mancom.serial.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.device.DeviceLink;
import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** jSerialComm's port as a DeviceLink on real ptys. */
class SerialLinkTest {
    @TempDir
    Path dir;
    private PtyPair pty;
    private DeviceLink link;

    @BeforeEach
    void start() throws IOException {
        PtyPair.require();
        pty = PtyPair.start(dir);
    }

    @AfterEach
    void stop() throws IOException {
        if (link != null) {
            link.close();
        }
        if (pty != null) {
            pty.close();
        }
    }

    private DeviceLink open(String options) throws ManComException {
        link = new SerialOpener(false).open(EndPoint.parse("serial://" + pty.a() + options));
        return link;
    }

    @Test
    void forEventLoopIoTheOpenerFindsThePortsOwnDescriptorInNonBlockingMode() throws Exception {
        assumeTrue(Files.isDirectory(Path.of("/proc/self/fd")), "needs Linux /proc");
        link = new SerialOpener(true).open(EndPoint.parse("serial://" + pty.a()));
        int fd = link.descriptor();
        assertThat(fd).isNotNegative();
        Path fdLink = Path.of("/proc/self/fd/" + fd);
        assertThat(Files.readSymbolicLink(fdLink)).isEqualTo(pty.a().toRealPath());
        // jSerialComm's flock is on this descriptor: it is the port's, not a stray one.
        assertThat(Files.readString(Path.of("/proc/self/fdinfo/" + fd))).contains("FLOCK");
        // The thread-served opener offers none.
        link.close();
        link = new SerialOpener(false).open(EndPoint.parse("serial://" + pty.a()));
        assertThat(link.descriptor()).isEqualTo(-1);
    }

    @Test
    void readsWritesAndTimesOutWithNothingToRead() throws Exception {
        open("?baud=9600");
        try (PtyPeer peer = new PtyPeer(pty.b())) {
            byte[] buf = new byte[64];
            long t0 = System.nanoTime();
            assertThat(link.read(buf, 0, buf.length)).isZero();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isBetween(50L, 5_000L);

            peer.write("ping".getBytes(StandardCharsets.US_ASCII));
            int n = 0;
            while (n < 4) {
                n += link.read(buf, n, buf.length - n);
            }
            assertThat(new String(buf, 0, n, StandardCharsets.US_ASCII)).isEqualTo("ping");

            CompletableFuture<byte[]> back = peer.readExactly(8);
            link.write(ByteBuffer.wrap("pong".getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer direct = ByteBuffer.allocateDirect(4).put("PONG".getBytes(StandardCharsets.US_ASCII)).flip();
            link.write(direct);
            assertThat(direct.hasRemaining()).isFalse();
            assertThat(new String(back.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII)).isEqualTo("pongPONG");
        }
    }

    @Test
    void aHungUpLineFailsReadsAndReportsTheDisconnectOnce() throws Exception {
        open("");
        List<IOException> reported = new CopyOnWriteArrayList<>();
        CompletableFuture<IOException> first = new CompletableFuture<>();
        link.onFailure(e -> {
            reported.add(e);
            first.complete(e);
        });
        pty.kill();
        IOException e = first.get(10, TimeUnit.SECONDS);
        assertThat(e).isInstanceOf(ManComException.class).hasMessageContaining("disconnected");
        assertThatThrownBy(() -> link.read(new byte[16], 0, 16)).isInstanceOf(ManComException.class)
                .satisfies(t -> assertThat(((ManComException) t).reason()).isEqualTo(Reason.LINK_FAILED));
        assertThatThrownBy(() -> link.write(ByteBuffer.wrap(new byte[]{1, 2, 3}))).isInstanceOf(ManComException.class);
        link.close();
        link.close(); // idempotent
        // jSerialComm fired the event many times before the close; it was reported once.
        assertThat(reported).hasSize(1);
    }

    @Test
    void closeEndsAReadThatWaitsAndTheReadSaysEndOfStream() throws Exception {
        open("?timeout=20s");
        FutureTask<Integer> read = new FutureTask<>(() -> link.read(new byte[16], 0, 16));
        Thread reader = new Thread(read, "serial-link-test-reader");
        reader.start();
        // Closed while the read waits inside jSerialComm's native read (VTIME = 20 s), not before.
        Await.until("the read to wait in jSerialComm", () -> Arrays.stream(reader.getStackTrace())
                .anyMatch(f -> f.getClassName().startsWith("com.fazecast.jSerialComm.") && f.getMethodName().equals("readBytes")));
        long t0 = System.nanoTime();
        link.close();
        assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(-1);
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).isLessThan(5_000);
        assertThat(link.read(new byte[16], 0, 16)).isEqualTo(-1); // and so does every read after it
    }

    @Test
    void closeFromAnInterruptedThreadEndsJSerialCommsEventThreadBeforeItReturns() throws Exception {
        // The blocking pool's shutdownNow interrupts a close in progress. jSerialComm's closePort
        // then skipped its join of the event thread and closed the port under it: the thread's
        // next native waitForEvent got a handle of 0 or a freed port record (a SIGSEGV once in
        // SerialEndToEndTest). The link's close must still end that thread before it returns.
        // A hung-up pty makes the event thread spin through waitForEvent (PORT_DISCONNECTED at
        // once, over and over), which is where the race hit.
        for (boolean hungUp : new boolean[]{false, true}) {
            if (hungUp) {
                pty.close();
                pty = PtyPair.start(Files.createDirectory(dir.resolve("again")));
            }
            Set<Thread> others = eventThreads(); // of links other tests closed, perhaps still ending
            open("");
            Thread events = eventThreadBesides(others);
            if (hungUp) {
                CompletableFuture<IOException> lost = new CompletableFuture<>();
                link.onFailure(lost::complete);
                pty.kill();
                lost.get(10, TimeUnit.SECONDS);
            }
            CompletableFuture<Boolean> aliveAfterClose = new CompletableFuture<>();
            CompletableFuture<Boolean> stillInterrupted = new CompletableFuture<>();
            Thread closer = new Thread(() -> {
                Thread.currentThread().interrupt();
                link.close();
                aliveAfterClose.complete(events.isAlive());
                stillInterrupted.complete(Thread.currentThread().isInterrupted());
            }, "serial-link-test-closer");
            closer.start();
            assertThat(aliveAfterClose.get(10, TimeUnit.SECONDS)).as("event thread alive after close (hung up: %s)", hungUp).isFalse();
            assertThat(stillInterrupted.get()).as("the caller's interrupt is kept").isTrue();
            link = null;
        }
    }

    /**
     * The event thread jSerialComm runs for the link just opened (it watches for PORT_DISCONNECTED):
     * the one not among {@code others}. Threads of links closed before (by a test of another class
     * in this JVM, whose channel may still be closing) must not be taken for it.
     */
    private static Thread eventThreadBesides(Set<Thread> others) {
        Thread[] found = new Thread[1];
        Await.until("jSerialComm's event thread", () -> {
            for (Thread t : eventThreads()) {
                if (!others.contains(t)) {
                    found[0] = t;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    private static Set<Thread> eventThreads() {
        Set<Thread> threads = new HashSet<>();
        for (var e : Thread.getAllStackTraces().entrySet()) {
            if (e.getKey().isAlive() && Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName()
                    .startsWith("com.fazecast.jSerialComm.SerialPort$SerialPortEventListener"))) {
                threads.add(e.getKey());
            }
        }
        return threads;
    }

    @Test
    void theLineSettingsReachTheTerminal() throws Exception {
        // A pty keeps speed, stop bits, flow control and input flags as set, but its driver forces
        // cs8 and -parenb (there are no bits on a wire to frame): data bits and parity show here
        // only as the input flags jSerialComm sets with them (istrip for 7 bits, inpck for parity).
        open("?baud=9600&databits=7&parity=even&stopbits=2&flow=rtscts");
        assertThat(stty(pty.a())).contains("speed 9600 baud").contains(" cstopb").contains(" crtscts")
                .contains(" -ixon").contains(" -ixoff").contains(" istrip").contains(" inpck");
        link.close();
        open("?baud=115200&databits=8&parity=none&stopbits=1&flow=xonxoff");
        assertThat(stty(pty.a())).contains("speed 115200 baud").contains(" -cstopb").contains(" -crtscts")
                .contains(" ixon").contains(" ixoff").contains(" -istrip").contains(" -inpck");
        link.close();
        open("?databits=5&stopbits=1.5");
        assertThat(stty(pty.a())).contains(" cstopb"); // what a UART sends as 1.5 stop bits with 5-bit characters
    }

    private static String stty(Path device) throws Exception {
        Process p = new ProcessBuilder("stty", "-F", device.toString(), "-a").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        return " " + out.replace('\n', ' ').replace(';', ' ');
    }

    @Test
    void oneAndAHalfStopBitsNeedFiveDataBitsOnLinux() {
        assertThatThrownBy(() -> open("?databits=8&stopbits=1.5"))
                .isInstanceOf(ManComException.class)
                .hasMessageContaining("stopbits=1.5 needs databits=5")
                .satisfies(t -> assertThat(((ManComException) t).reason()).isEqualTo(Reason.CONFIG));
    }
}
