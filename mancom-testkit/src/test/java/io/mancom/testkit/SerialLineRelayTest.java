package io.mancom.testkit;

import io.mancom.testkit.SerialLineRelay.Direction;
import io.mancom.testkit.SerialLineRelay.Unplug;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The relay over real ptys: exact bytes when clean, exact counts when not, the line's pace, unplugging, no stall. */
@Timeout(120)
class SerialLineRelayTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void needsSocat() {
        PtyPair.require();
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    @Test
    void carriesBothDirectionsAtOnceByteExactWithoutFaults() throws Exception {
        SerialLineRelay line = start(LineProfile.PERFECT, 1);
        byte[] ab = LineFaultsTest.random(1 << 20, 11);
        byte[] ba = LineFaultsTest.random(1 << 20, 12);
        InputStream aIn = in(line.a());
        InputStream bIn = in(line.b());
        OutputStream aOut = out(line.a());
        OutputStream bOut = out(line.b());
        CompletableFuture<byte[]> atB = readAsync(bIn, ab.length);
        CompletableFuture<byte[]> atA = readAsync(aIn, ba.length);
        CompletableFuture<Void> w1 = CompletableFuture.runAsync(() -> writeUnchecked(aOut, ab));
        CompletableFuture<Void> w2 = CompletableFuture.runAsync(() -> writeUnchecked(bOut, ba));
        assertThat(atB.get(60, TimeUnit.SECONDS)).as("%s", line).isEqualTo(ab);
        assertThat(atA.get(60, TimeUnit.SECONDS)).as("%s", line).isEqualTo(ba);
        w1.get(10, TimeUnit.SECONDS);
        w2.get(10, TimeUnit.SECONDS);
        LineCounters c = line.counters(Direction.A_TO_B);
        assertThat(c.bytesRead()).isEqualTo(ab.length);
        assertThat(c.bytesDelivered()).isEqualTo(ab.length);
        assertThat(c.bitsFlipped() + c.bytesDropped() + c.garbageBytes() + c.bytesLost()).isZero();
    }

    /**
     * docs/serial.md's stall: an echo that stops reading while its write waits (as ManCom's
     * backpressure does), and a writer of 1 MiB that reads the echo. Over a plain socat pair this
     * stalls in about half the runs; the relay keeps the directions apart, so it never does.
     */
    @Test
    void aBlockingEchoAndABulkWriterDoNotStall() throws Exception {
        SerialLineRelay line = start(LineProfile.PERFECT, 2);
        InputStream bIn = in(line.b());
        OutputStream bOut = out(line.b());
        Thread echo = new Thread(() -> {
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = bIn.read(buf)) > 0; ) {
                    bOut.write(buf, 0, n); // blocks while the other side is full: no read meanwhile
                }
            } catch (IOException e) {
                // the line closed under the test's end
            }
        }, "blocking echo");
        echo.setDaemon(true);
        echo.start();
        byte[] data = LineFaultsTest.random(1 << 20, 21);
        CompletableFuture<byte[]> back = readAsync(in(line.a()), data.length);
        OutputStream aOut = out(line.a());
        CompletableFuture.runAsync(() -> writeUnchecked(aOut, data));
        assertThat(back.get(60, TimeUnit.SECONDS)).as("%s", line).isEqualTo(data);
    }

    @Test
    void bitFlipsReachTheReceiverExactlyAsCounted() throws Exception {
        SerialLineRelay line = start(LineProfile.PERFECT.withBitErrorRate(1e-3), 3);
        byte[] data = LineFaultsTest.random(1 << 18, 31);
        CompletableFuture<byte[]> atB = readAsync(in(line.b()), data.length);
        OutputStream aOut = out(line.a());
        CompletableFuture.runAsync(() -> writeUnchecked(aOut, data));
        byte[] got = atB.get(60, TimeUnit.SECONDS);
        long differing = 0;
        for (int i = 0; i < data.length; i++) {
            differing += Integer.bitCount((data[i] ^ got[i]) & 0xff);
        }
        LineCounters c = line.counters(Direction.A_TO_B);
        assertThat(differing).as("%s: %s", line, c).isEqualTo(c.bitsFlipped()).isPositive();
        assertThat(line.counters(Direction.B_TO_A).bytesRead()).isZero();
    }

    @Test
    void dropsAndGarbageChangeTheLengthByExactlyTheCounts() throws Exception {
        LineProfile noisy = LineProfile.PERFECT.withDropRate(1e-3).withGarbage(1e-3, 1, 8);
        SerialLineRelay line = start(noisy, 4);
        byte[] data = LineFaultsTest.random(1 << 18, 41);
        java.io.ByteArrayOutputStream received = drain(in(line.b()));
        write(out(line.a()), data);
        Await.until("all bytes handed on", () -> {
            LineCounters c = line.counters(Direction.A_TO_B);
            return c.bytesDelivered() + c.bytesDropped() == data.length;
        });
        LineCounters c = line.counters(Direction.A_TO_B);
        int expected = (int) (c.bytesDelivered() + c.garbageBytes());
        Await.until("b has all " + expected + " bytes", () -> size(received) >= expected);
        byte[] got;
        synchronized (received) {
            got = received.toByteArray();
        }
        assertThat(got).hasSize(expected);
        assertThat(c.bytesDropped()).isPositive();
        assertThat(c.garbageBursts()).isPositive();

        // The same seed on a new line does exactly the same.
        SerialLineRelay again = start(noisy, 4, dir.resolve("again"));
        CompletableFuture<byte[]> got2 = readAsync(in(again.b()), expected);
        write(out(again.a()), data);
        assertThat(got2.get(60, TimeUnit.SECONDS)).isEqualTo(got);
        // The relay counts bytes as delivered when its write returns, which can be after the reader
        // has them: wait for the count to settle, then compare.
        Await.until("the second line's counts settle", () -> {
            LineCounters now = again.counters(Direction.A_TO_B);
            return now.bytesDelivered() + now.bytesDropped() == data.length;
        });
        assertThat(again.counters(Direction.A_TO_B)).isEqualTo(c);
    }

    @Test
    void paceFollowsTheBaudRateInEachDirection() throws Exception {
        // 19200 baud, 10 bits per byte: 1,920 bytes/s; 3,840 bytes take 2 s. The other way is 4 times faster.
        SerialLineRelay line = start(LineProfile.clean(19_200), LineProfile.clean(76_800), 5, dir);
        byte[] data = LineFaultsTest.random(3_840, 51);
        CompletableFuture<byte[]> atB = readAsync(in(line.b()), data.length);
        CompletableFuture<byte[]> atA = readAsync(in(line.a()), data.length);
        OutputStream aOut = out(line.a());
        OutputStream bOut = out(line.b());
        long t0 = System.nanoTime();
        CompletableFuture<Long> slow = atB.thenApply(b -> System.nanoTime() - t0);
        CompletableFuture<Long> fast = atA.thenApply(b -> System.nanoTime() - t0);
        CompletableFuture.runAsync(() -> writeUnchecked(aOut, data));
        CompletableFuture.runAsync(() -> writeUnchecked(bOut, data));
        double slowS = slow.get(30, TimeUnit.SECONDS) / 1e9;
        double fastS = fast.get(30, TimeUnit.SECONDS) / 1e9;
        assertThat(atB.get()).isEqualTo(data);
        // Never faster than the line (less the pacer's 20 ms slack); slower only by what a loaded
        // machine adds (a few hundred ms of thread start-up and late wake-ups on 2 busy CPUs).
        assertThat(slowS).as("a->b at 1,920 B/s").isBetween(1.98, 2.8);
        assertThat(fastS).as("b->a at 7,680 B/s").isBetween(0.48, 1.2);
    }

    @Test
    void unpluggedSilentlyNothingIsCarriedAndAfterPluggingEverythingIs() throws Exception {
        SerialLineRelay line = start(LineProfile.PERFECT, 6);
        InputStream bIn = in(line.b());
        OutputStream aOut = out(line.a());
        line.unplug(Unplug.SILENT);
        assertThat(line.isPlugged()).isFalse();
        aOut.write(new byte[1000]);
        Await.until("the unplugged line swallows what was sent", () -> line.counters(Direction.A_TO_B).bytesLost() == 1000);
        line.plug();
        byte[] after = LineFaultsTest.random(1000, 61);
        aOut.write(after);
        assertThat(readFully(bIn, 1000)).isEqualTo(after);
        assertThat(line.counters(Direction.A_TO_B).unplugs()).isEqualTo(1);
    }

    @Test
    void hangingUpAnEndMakesItsPtyFailAndPluggingBringsItBack() throws Exception {
        SerialLineRelay line = start(LineProfile.PERFECT, 7);
        Path before = line.a().toRealPath();
        InputStream aIn = in(line.a());
        line.unplug(Unplug.HANG_UP_A);
        assertThat(readFails(aIn)).as("a read on the hung-up pty fails (EIO) or ends").isTrue();
        assertThat(Files.exists(line.a())).isFalse();
        line.plug();
        assertThat(Files.exists(line.a())).isTrue();
        byte[] data = LineFaultsTest.random(5000, 71);
        CompletableFuture<byte[]> atA = readAsync(in(line.a()), data.length);
        write(out(line.b()), data);
        assertThat(atA.get(30, TimeUnit.SECONDS)).isEqualTo(data);
        CompletableFuture<byte[]> atB = readAsync(in(line.b()), data.length);
        write(out(line.a()), data);
        assertThat(atB.get(30, TimeUnit.SECONDS)).isEqualTo(data);
        assertThat(line.a().toRealPath()).as("a new pty behind the same link").isNotEqualTo(before);
    }

    private static boolean readFails(InputStream in) {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private SerialLineRelay start(LineProfile profile, long seed) throws IOException {
        return start(profile, profile, seed, dir);
    }

    private SerialLineRelay start(LineProfile profile, long seed, Path where) throws IOException {
        return start(profile, profile, seed, where);
    }

    private SerialLineRelay start(LineProfile aToB, LineProfile bToA, long seed, Path where) throws IOException {
        SerialLineRelay line = SerialLineRelay.start(where, aToB, bToA, seed);
        open.add(line);
        return line;
    }

    private InputStream in(Path p) throws IOException {
        InputStream s = new FileInputStream(p.toFile());
        open.add(0, s);
        return s;
    }

    private OutputStream out(Path p) throws IOException {
        OutputStream s = new FileOutputStream(p.toFile());
        open.add(0, s);
        return s;
    }

    /**
     * Writes {@code data} from a thread of its own (a pty write blocks while the other side does
     * not read, and a test must fail rather than hang then), and returns once it is written.
     */
    private static void write(OutputStream out, byte[] data) throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                for (int off = 0; off < data.length; off += 65536) {
                    out.write(data, off, Math.min(65536, data.length - off));
                }
                done.complete(null);
            } catch (IOException e) {
                done.completeExceptionally(e);
            }
        }, "test writer");
        t.setDaemon(true);
        t.start();
        done.get(60, TimeUnit.SECONDS);
    }

    private static void writeUnchecked(OutputStream out, byte[] data) {
        try {
            write(out, data);
        } catch (Exception e) {
            throw new java.util.concurrent.CompletionException(e);
        }
    }

    /**
     * {@code n} bytes, or an error at the end of input. Not {@code readNBytes}: Java 17's
     * FileInputStream asks a pty for its position there and fails with "Illegal seek".
     */
    private static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] got = new byte[n];
        for (int off = 0; off < n; ) {
            int r = in.read(got, off, n - off);
            if (r < 0) {
                throw new IOException("end of input after " + off + " of " + n + " bytes");
            }
            off += r;
        }
        return got;
    }

    /** Everything {@code in} delivers, collected by a thread of its own (synchronized on the stream). */
    private static java.io.ByteArrayOutputStream drain(InputStream in) {
        java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
        Thread t = new Thread(() -> {
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = in.read(buf)) > 0; ) {
                    synchronized (got) {
                        got.write(buf, 0, n);
                    }
                }
            } catch (IOException e) {
                // closed at the end of the test
            }
        }, "test drain");
        t.setDaemon(true);
        t.start();
        return got;
    }

    private static int size(java.io.ByteArrayOutputStream s) {
        synchronized (s) {
            return s.size();
        }
    }

    private static CompletableFuture<byte[]> readAsync(InputStream in, int n) {
        CompletableFuture<byte[]> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(readFully(in, n));
            } catch (IOException e) {
                f.completeExceptionally(e);
            }
        }, "test reader");
        t.setDaemon(true);
        t.start();
        return f;
    }
}
