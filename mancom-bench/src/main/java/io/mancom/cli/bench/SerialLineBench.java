package io.mancom.cli.bench;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.cli.internal.Stats;
import io.mancom.cli.internal.Table;
import io.mancom.testkit.LineCounters;
import io.mancom.testkit.LineProfile;
import io.mancom.testkit.SerialLineRelay;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * {@code mancom bench serial --baud B [--ber X]}: goodput over a paced, noisy line (the testkit's
 * {@link SerialLineRelay}) as a fraction of the line rate, ManCom against ZMODEM ({@code sz}/{@code
 * rz} from lrzsz) sending the same bytes through the same relay and noise.
 *
 * <p>Per run, each side gets a fresh relay with the run's seed (so both meet the same kind of
 * noise; the positions differ, since ZMODEM's bytes on the wire are not ManCom's), and the sides
 * alternate which goes first. The clock runs from the first write to the last byte (ManCom) or to
 * rz's exit (ZMODEM). Goodput counts only a byte-exact transfer; a transfer that arrives changed
 * (plain ManCom has no link layer: a flipped bit is delivered as it is) is shown as corrupt.
 *
 * <p>ManCom's side is two runtimes, one on each end of the line, so that a link layer under both
 * ({@link #linkConfig}, the hook for {@code --reliable}) needs no other change here.
 */
final class SerialLineBench {
    private static final Duration READY = Duration.ofSeconds(20);

    private final PrintWriter out;
    private final long baud;
    private final double ber;
    private final byte[] data;
    private final int chunk;
    private final int runs;
    private final int threads;
    private final Duration timeout;
    /** Added to both ManCom services' config (for example {@code link = reliable}); empty: plain ManCom. */
    private final String linkConfig;

    SerialLineBench(PrintWriter out, long baud, double ber, byte[] data, int chunk, int runs, int threads,
                    Duration timeout, String linkConfig) {
        this.out = out;
        this.baud = baud;
        this.ber = ber;
        this.data = data;
        this.chunk = chunk;
        this.runs = runs;
        this.threads = threads;
        this.timeout = timeout;
        this.linkConfig = linkConfig;
    }

    /**
     * One side's result: seconds, whether the bytes arrived exactly, and what the line did. For
     * ManCom also {@code wire}: the bytes A put on the line during the transfer per byte of data
     * (frames, headers, retransmissions, HELLOs), and {@code busy}: those bytes' line time per
     * second of the transfer (below 1: the line was idle for a while); NaN for ZMODEM.
     */
    private record Result(double seconds, boolean exact, String note, double wire, double busy) {
        Result(double seconds, boolean exact, String note) {
            this(seconds, exact, note, Double.NaN, Double.NaN);
        }
    }

    int run() throws Exception {
        LineProfile profile = LineProfile.clean(baud).withBitErrorRate(ber);
        double lineRate = profile.bytesPerSecond();
        String mancomName = linkConfig.isEmpty() ? "ManCom (no link layer)" : "ManCom (" + linkConfig + ")";
        out.println("ManCom serial line benchmark (testkit SerialLineRelay: paced, noisy, one direction)");
        out.printf(Locale.ROOT, "  line      %s; %s B/s line rate; %s per transfer%n", profile,
                String.format(Locale.ROOT, "%.0f", lineRate), Stats.bytes(data.length));
        out.printf(Locale.ROOT, "  sides     %s; ZMODEM = sz -b | rz -b (lrzsz)%n", mancomName);
        out.println("  columns   goodput = bytes / seconds / line rate, counted only when the bytes arrived exactly");
        out.println();
        out.flush();
        Table table = new Table("  ", "run", "ManCom s>", "ManCom goodput>", "ZMODEM s>", "ZMODEM goodput>", "notes")
                .minWidth(0, "median".length());
        List<String> printed = new ArrayList<>();
        double[] mancom = new double[runs];
        double[] zmodem = new double[runs];
        double[] wire = new double[runs];
        double[] busy = new double[runs];
        for (int r = 1; r <= runs; r++) {
            Result m;
            Result z;
            if (r % 2 == 1) {
                m = mancom(profile, r);
                z = zmodem(profile, r);
            } else {
                z = zmodem(profile, r);
                m = mancom(profile, r);
            }
            mancom[r - 1] = m.exact ? data.length / m.seconds / lineRate : 0;
            zmodem[r - 1] = z.exact ? data.length / z.seconds / lineRate : 0;
            wire[r - 1] = m.wire;
            busy[r - 1] = m.busy;
            table.row(Integer.toString(r), secs(m), goodput(m, mancom[r - 1]), secs(z), goodput(z, zmodem[r - 1]),
                    (m.note + " " + z.note).strip());
            BenchKit.printNewLines(out, table, printed);
        }
        double mMedian = Stats.median(mancom);
        double zMedian = Stats.median(zmodem);
        table.row("median", "", BenchKit.ratio(mMedian), "", BenchKit.ratio(zMedian), "");
        BenchKit.printNewLines(out, table, printed);
        out.println();
        // Where the rest of the line time went: bytes on the wire besides the data, or idle time.
        out.printf(Locale.ROOT, "  line use  ManCom a->b: %.3f bytes on the wire per byte of data, the line busy %.3f of the"
                + " transfer time (medians)%n", Stats.median(wire), Stats.median(busy));
        out.printf(Locale.ROOT, "summary: at %d baud, BER %s: %s %s of line rate, ZMODEM %s (median of %d run%s; a corrupt"
                        + " transfer counts 0)%n", baud, ber, mancomName, BenchKit.ratio(mMedian), BenchKit.ratio(zMedian),
                runs, runs == 1 ? "" : "s");
        out.flush();
        return 0;
    }

    private static String secs(Result r) {
        return Double.isNaN(r.seconds) ? "-" : String.format(Locale.ROOT, "%.2f", r.seconds);
    }

    private static String goodput(Result r, double g) {
        return r.exact ? BenchKit.ratio(g) : (Double.isNaN(r.seconds) ? "failed" : "corrupt");
    }

    /** Runtime A on the line's end a sends {@code data}; runtime B on end b counts and digests it. */
    private Result mancom(LineProfile profile, long seed) throws Exception {
        Path dir = Files.createTempDirectory("mancom-bench-line");
        try (SerialLineRelay line = SerialLineRelay.start(dir, profile, seed)) {
            String extra = linkConfig.isEmpty() ? "" : ", " + linkConfig;
            CompletableFuture<Connection> sender = new CompletableFuture<>();
            Receiver receiver = new Receiver();
            try (ManCom b = BenchKit.runtime("mancom.services.line { endpoint = \"serial://" + line.b() + "\"" + extra + " }\n", threads);
                 ManCom a = BenchKit.runtime("mancom.services.line { endpoint = \"serial://" + line.a() + "\"" + extra + " }\n", threads)) {
                b.registerDataReceiver("line", receiver);
                a.registerAcceptor("line", sender::complete);
                a.registerDataReceiver("line", (c, d) -> { });
                b.awaitReady(READY);
                a.awaitReady(READY);
                Connection c = sender.get(READY.toSeconds(), TimeUnit.SECONDS);
                long wireBefore = line.counters(SerialLineRelay.Direction.A_TO_B).bytesRead();
                long t0 = System.nanoTime();
                send(c);
                long deadline = t0 + timeout.toNanos();
                // Done when B has everything, or (no link layer, bytes dropped) all the line delivered.
                while (true) {
                    LineCounters k = line.counters(SerialLineRelay.Direction.A_TO_B);
                    long got = receiver.got();
                    if (got >= data.length || (k.bytesDelivered() + k.bytesDropped() + k.bytesLost() >= data.length
                            && got >= k.bytesDelivered() + k.garbageBytes())) {
                        break;
                    }
                    if (System.nanoTime() > deadline) {
                        return new Result(Double.NaN, false, "ManCom: " + got + " of " + data.length + " B in " + timeout.toSeconds() + " s");
                    }
                    Thread.sleep(5); // a benchmark's poll, not a test's synchronisation
                }
                double s = (receiver.last - t0) / 1e9;
                boolean exact = receiver.got() == data.length && Arrays.equals(receiver.digest(), sha256(data));
                LineCounters k = line.counters(SerialLineRelay.Direction.A_TO_B);
                // The relay's reader counts what A wrote (a few KiB ahead of the line at most).
                long wire = k.bytesRead() - wireBefore;
                return new Result(s, exact, exact ? "" : "ManCom: " + k.bitsFlipped() + " bits flipped;",
                        (double) wire / data.length, wire / profile.bytesPerSecond() / s);
            }
        } finally {
            SerialBenchCommand.deleteTree(dir);
        }
    }

    private void send(Connection c) throws InterruptedException {
        Semaphore writable = new Semaphore(0);
        c.setWritabilityListener((conn, w) -> {
            if (w) {
                writable.release();
            }
        });
        for (int off = 0; off < data.length; ) {
            if (c.isWritable()) {
                int len = Math.min(chunk, data.length - off);
                c.write(data, off, len);
                off += len;
            } else {
                writable.tryAcquire(100, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** sz on end a sends a file of {@code data}; rz on end b receives it into a folder of its own. */
    private Result zmodem(LineProfile profile, long seed) throws Exception {
        Path dir = Files.createTempDirectory("mancom-bench-zmodem");
        try (SerialLineRelay line = SerialLineRelay.start(dir.resolve("line"), profile, seed)) {
            Path src = dir.resolve("src");
            Path dst = dir.resolve("dst");
            Files.createDirectories(src);
            Files.createDirectories(dst);
            Files.write(src.resolve("data.bin"), data);
            Process rz = new ProcessBuilder("rz", "-b", "-y", "-q").directory(dst.toFile())
                    .redirectInput(line.b().toFile()).redirectOutput(line.b().toFile())
                    .redirectError(dir.resolve("rz.log").toFile()).start();
            long t0 = System.nanoTime();
            Process sz = new ProcessBuilder("sz", "-b", "-q", "data.bin").directory(src.toFile())
                    .redirectInput(line.a().toFile()).redirectOutput(line.a().toFile())
                    .redirectError(dir.resolve("sz.log").toFile()).start();
            // sz exits (0) once rz has answered its ZFIN, which rz sends after it has written and
            // closed the file: that is the end of the transfer. rz then waits for sz's "OO" and,
            // through this relay, usually sits out its 3 x 10 s wait for it (not part of the figure).
            boolean done = sz.waitFor(timeout.toSeconds(), TimeUnit.SECONDS);
            long t1 = System.nanoTime();
            rz.waitFor(200, TimeUnit.MILLISECONDS);
            sz.destroyForcibly();
            rz.destroyForcibly();
            if (!done) {
                return new Result(Double.NaN, false, "ZMODEM: not done in " + timeout.toSeconds() + " s;");
            }
            Path got = dst.resolve("data.bin");
            boolean exact = sz.exitValue() == 0 && Files.exists(got) && Arrays.equals(Files.readAllBytes(got), data);
            return new Result((t1 - t0) / 1e9, exact, exact ? "" : "ZMODEM: sz exit " + sz.exitValue() + ";");
        } finally {
            SerialBenchCommand.deleteTree(dir);
        }
    }

    /** Counts and digests what B receives; {@code last} is when the last byte came. */
    private static final class Receiver implements DataReceiver {
        private final MessageDigest md = sha256();
        private volatile long got;
        volatile long last;

        @Override
        public synchronized void onData(Connection c, ByteBuffer d) {
            got += d.remaining();
            md.update(d);
            last = System.nanoTime();
        }

        long got() {
            return got;
        }

        synchronized byte[] digest() {
            return md.digest();
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] sha256(byte[] bytes) {
        return sha256().digest(bytes);
    }

    /** Whether {@code sz} and {@code rz} can be run. */
    static boolean zmodemAvailable() {
        for (String tool : List.of("sz", "rz")) {
            try {
                Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return false;
                }
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
