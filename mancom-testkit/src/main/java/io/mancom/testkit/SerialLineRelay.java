package io.mancom.testkit;

import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A serial line for tests: two pty pairs joined by a relay that behaves like a real cable.
 *
 * <pre>
 *   app A &lt;-&gt; a ══socat══ .a-line ─┐                       ┌─ .b-line ══socat══ b &lt;-&gt; app B
 *                                   └── relay (this class) ──┘
 *                         pacing, bit flips, drops, garbage, unplugging; each direction on its own
 * </pre>
 *
 * <p>Applications open {@link #a()} and {@link #b()} (stable symbolic links to ptys), exactly as
 * they would a {@link PtyPair}'s ends. Each direction has its own {@link LineProfile}: its rate
 * (the relay hands bytes on no faster than {@code baud / bitsPerByte} per second, each chunk when
 * its last bit would have arrived) and its faults, drawn from a seed so that a failing run
 * replays: print the relay ({@link #toString()} names the seed) in assertion messages.
 *
 * <p><b>It never blocks a direction on the other.</b> Each direction has a reader thread, a
 * bounded buffer ({@code 4 KiB}, like a UART's FIFO plus a driver's buffer) and a writer thread.
 * A receiver that does not read holds up only its own direction: the writer waits, the buffer
 * fills, the reader stops reading the sender, and the sender's writes stop (backpressure, as
 * RTS/CTS flow control would do); the other direction keeps moving. socat, which relays both
 * directions of a pair in one thread with blocking writes, does not have this property with its
 * default 8 KiB transfers (docs/serial.md of ManCom, "socat and backpressure"), so the two pairs
 * run with {@link #SOCAT_OPTIONS}.
 *
 * <p><b>Unplugging.</b> {@link #unplug(Unplug)} stops carrying: what the senders write is lost
 * (still at the line's pace, as a UART transmitting into a cut cable), and, for the {@code
 * HANG_UP} modes, the app side's pty goes away (its socat is killed, so a program with it open
 * reads EIO, as when a USB adapter is pulled) and comes back under the same path on {@link
 * #plug()}. {@link #unplugFor(Duration, Unplug)} plugs back by itself.
 *
 * <p><b>Threads.</b> Every method may be called from any thread. The relay's four threads are
 * daemon threads named {@code serial-line a->b reader} and so on. {@link #close()} stops them
 * and kills both socats; it is idempotent.
 */
public final class SerialLineRelay implements AutoCloseable {
    /** socat's global options for the two pairs: transfers small enough that a blocking write to a pty is not left waiting (docs/serial.md). */
    public static final List<String> SOCAT_OPTIONS = List.of("-b", "1024");

    private static final int RING_BYTES = 4096;

    /** A direction of the line. */
    public enum Direction {
        /** From {@link #a()} to {@link #b()}. */
        A_TO_B,
        /** From {@link #b()} to {@link #a()}. */
        B_TO_A
    }

    /** How {@link #unplug(Unplug)} pulls the cable. */
    public enum Unplug {
        /** Both ptys stay; nothing is carried (a cable cut in the middle, or a radio out of range). */
        SILENT,
        /** As {@link #SILENT}, and {@link #a()}'s pty hangs up (a USB adapter on A's side pulled out). */
        HANG_UP_A,
        /** As {@link #SILENT}, and {@link #b()}'s pty hangs up. */
        HANG_UP_B,
        /** As {@link #SILENT}, and both ptys hang up. */
        HANG_UP_BOTH
    }

    private final long seed;
    private final End endA;
    private final End endB;
    private final Flow aToB;
    private final Flow bToA;
    private volatile boolean plugged = true;
    private volatile boolean closed;
    private Unplug unplugged;
    private long unplugs;

    private SerialLineRelay(long seed, End endA, End endB, LineProfile aToB, LineProfile bToA) {
        this.seed = seed;
        this.endA = endA;
        this.endB = endB;
        // Each direction draws from its own stream, so a change of one profile leaves the other's faults as they were.
        this.aToB = new Flow("a->b", aToB, seed * 2 + 1, endA, endB);
        this.bToA = new Flow("b->a", bToA, seed * 2 + 2, endB, endA);
    }

    /** Starts a line whose two directions have the same {@code profile}; the ends are {@code dir/a} and {@code dir/b}. */
    public static SerialLineRelay start(Path dir, LineProfile profile, long seed) throws IOException {
        return start(dir, profile, profile, seed);
    }

    /**
     * Starts a line with ends {@code dir/a} and {@code dir/b} (and its inner ends {@code dir/.a-line},
     * {@code dir/.b-line}); returns once both ends can be opened.
     *
     * @throws IOException if socat cannot be started (see {@link PtyPair#available()})
     */
    public static SerialLineRelay start(Path dir, LineProfile aToB, LineProfile bToA, long seed) throws IOException {
        End a = new End(PtyPair.start(dir.resolve("a"), dir.resolve(".a-line"), SOCAT_OPTIONS));
        End b;
        try {
            b = new End(PtyPair.start(dir.resolve(".b-line"), dir.resolve("b"), SOCAT_OPTIONS));
        } catch (IOException | RuntimeException e) {
            a.pair.close();
            throw e;
        }
        SerialLineRelay relay = new SerialLineRelay(seed, a, b, aToB, bToA);
        try {
            a.open();
            b.open();
        } catch (IOException | RuntimeException e) {
            relay.close();
            throw e;
        }
        relay.aToB.start();
        relay.bToA.start();
        return relay;
    }

    /** A's end: a link to a pty. */
    public Path a() {
        return endA.pair.a();
    }

    /** B's end: a link to a pty. */
    public Path b() {
        return endB.pair.b();
    }

    /** The seed the faults are drawn from. */
    public long seed() {
        return seed;
    }

    /** The profile of one direction. */
    public LineProfile profile(Direction direction) {
        return flow(direction).profile;
    }

    /** What one direction has done so far. */
    public LineCounters counters(Direction direction) {
        Flow f = flow(direction);
        synchronized (this) {
            return f.counters(unplugs);
        }
    }

    /** Whether the line carries bytes now. */
    public boolean isPlugged() {
        return plugged;
    }

    /** Stops carrying, in both directions; see {@link Unplug}. Does nothing if already unplugged. */
    public synchronized void unplug(Unplug how) throws IOException {
        if (closed || unplugged != null) {
            return;
        }
        unplugged = how;
        unplugs++;
        plugged = false;
        if (how == Unplug.HANG_UP_A || how == Unplug.HANG_UP_BOTH) {
            endA.hangUp();
        }
        if (how == Unplug.HANG_UP_B || how == Unplug.HANG_UP_BOTH) {
            endB.hangUp();
        }
    }

    /** Carries again; a pty that hung up is back under its path (a new pty) when this returns. */
    public synchronized void plug() throws IOException {
        if (closed || unplugged == null) {
            return;
        }
        if (unplugged == Unplug.HANG_UP_A || unplugged == Unplug.HANG_UP_BOTH) {
            endA.pair.restart();
            endA.open();
        }
        if (unplugged == Unplug.HANG_UP_B || unplugged == Unplug.HANG_UP_BOTH) {
            endB.pair.restart();
            endB.open();
        }
        unplugged = null;
        plugged = true;
    }

    /** {@link #unplug(Unplug)} now and {@link #plug()} after {@code duration}, from a thread of its own; returns at once. */
    public void unplugFor(Duration duration, Unplug how) throws IOException {
        unplug(how);
        long due = System.nanoTime() + duration.toNanos();
        Thread t = new Thread(() -> {
            for (long wait; (wait = due - System.nanoTime()) > 0 && !closed; ) {
                LockSupport.parkNanos(wait);
            }
            try {
                plug();
            } catch (IOException e) {
                throw new UncheckedIOException("serial line relay: plugging back failed", e);
            }
        }, "serial-line plug");
        t.setDaemon(true);
        t.start();
    }

    /** Stops the relay and kills both socats; the ends disappear. */
    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            plugged = false;
        }
        aToB.ring.close();
        bToA.ring.close();
        // Killing socat first hangs up the inner ptys, which ends any read or write the threads are blocked in.
        IOException failure = null;
        for (End end : List.of(endA, endB)) {
            try {
                end.hangUp();
            } catch (IOException e) {
                failure = e;
            }
            end.close();
        }
        aToB.join();
        bToA.join();
        if (failure != null) {
            throw failure;
        }
    }

    private Flow flow(Direction direction) {
        return direction == Direction.A_TO_B ? aToB : bToA;
    }

    @Override
    public String toString() {
        return "SerialLineRelay[" + a() + " <-> " + b() + ", seed " + seed + ", a->b " + aToB.profile
                + ", b->a " + bToA.profile + (plugged ? "" : ", unplugged") + "]";
    }

    /** The relay's side of one pair: the inner pty, opened for reading and writing, reopened after a hang-up. */
    private static final class End {
        final PtyPair pair;
        private InputStream in;
        private OutputStream out;
        private int generation;
        private boolean down = true;
        private boolean closed;

        End(PtyPair pair) {
            this.pair = pair;
        }

        /** The inner link of the pair: the end that is not the application's. */
        private Path inner() {
            return pair.a().getFileName().toString().startsWith(".") ? pair.a() : pair.b();
        }

        synchronized void open() throws IOException {
            closeStreams();
            in = new FileInputStream(inner().toFile());
            out = new FileOutputStream(inner().toFile());
            generation++;
            down = false;
            notifyAll();
        }

        void hangUp() throws IOException {
            synchronized (this) {
                down = true;
            }
            // Outside the lock: a writer blocked on the pty holds no lock, and killing socat wakes it with EIO.
            pair.kill();
            synchronized (this) {
                closeStreams();
            }
        }

        synchronized void close() {
            closed = true;
            down = true;
            closeStreams();
            notifyAll();
        }

        /** Waits for a stream newer than {@code generation}; null once closed. */
        synchronized InputStream awaitInput(int[] generationHolder) throws InterruptedException {
            while (!closed && (down || generation <= generationHolder[0])) {
                wait();
            }
            if (closed) {
                return null;
            }
            generationHolder[0] = generation;
            return in;
        }

        /** The output stream now, or null while hung up. */
        synchronized OutputStream output() {
            return down ? null : out;
        }

        private void closeStreams() {
            for (AutoCloseable c : new AutoCloseable[] {in, out}) {
                try {
                    if (c != null) {
                        c.close();
                    }
                } catch (Exception ignored) {
                    // a hung-up pty may fail its close; nothing to do about it
                }
            }
            in = null;
            out = null;
        }
    }

    /** One direction: reader thread -> ring -> writer thread (faults, pacing). */
    private final class Flow {
        final LineProfile profile;
        final ByteRing ring = new ByteRing(RING_BYTES);
        private final LineFaults faults;
        private final LinePacer pacer;
        private final End from;
        private final End to;
        private final Thread reader;
        private final Thread writer;
        private final AtomicLong bytesRead = new AtomicLong();
        private volatile long bytesDelivered;
        private volatile long bytesLost;

        Flow(String name, LineProfile profile, long seed, End from, End to) {
            this.profile = profile;
            this.faults = new LineFaults(profile, seed);
            this.pacer = new LinePacer(profile);
            this.from = from;
            this.to = to;
            this.reader = new Thread(this::read, "serial-line " + name + " reader");
            this.writer = new Thread(this::write, "serial-line " + name + " writer");
            reader.setDaemon(true);
            writer.setDaemon(true);
        }

        void start() {
            reader.start();
            writer.start();
        }

        void join() {
            try {
                reader.join(10_000);
                writer.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void read() {
            byte[] buf = new byte[RING_BYTES];
            int[] generation = {0};
            InputStream in = null;
            try {
                while (!closed) {
                    if (in == null && (in = from.awaitInput(generation)) == null) {
                        return;
                    }
                    int n;
                    try {
                        n = in.read(buf);
                    } catch (IOException e) {
                        n = -1; // EIO: the pty hung up; wait for it to be reopened
                    }
                    if (n < 0) {
                        in = null;
                        continue;
                    }
                    bytesRead.addAndGet(n);
                    ring.put(buf, 0, n);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void write() {
            int chunk = pacer.chunk();
            byte[] buf = new byte[chunk];
            try {
                while (true) {
                    int n = ring.take(buf, chunk, ByteRing.millis(100));
                    if (n < 0) {
                        return;
                    }
                    if (n == 0) {
                        continue;
                    }
                    if (!plugged) {
                        pacer.transmit(n);
                        bytesLost += n;
                        continue;
                    }
                    long droppedBefore = faults.bytesDropped;
                    int m = faults.apply(buf, 0, n);
                    long carried = n - (faults.bytesDropped - droppedBefore);
                    pacer.transmit(m);
                    OutputStream out = plugged ? to.output() : null;
                    if (out == null) {
                        bytesLost += carried;
                        continue;
                    }
                    try {
                        out.write(faults.output(), 0, m);
                        bytesDelivered += carried;
                    } catch (IOException e) {
                        bytesLost += carried; // the receiver's pty hung up under the write
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        LineCounters counters(long unplugs) {
            return new LineCounters(bytesRead.get(), bytesDelivered, faults.bitsFlipped, faults.bytesDropped,
                    faults.garbageBursts, faults.garbageBytes, bytesLost, unplugs);
        }
    }
}
