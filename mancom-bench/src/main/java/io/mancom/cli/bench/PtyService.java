package io.mancom.cli.bench;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.cli.internal.Stats;
import io.mancom.testkit.PtyPair;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One side of {@code bench daemon}'s pty figures: a serial service on end a of a socat pty pair,
 * served by a runtime of the benchmark's process, moving bytes to and from plain streams on the
 * pair's other end (as {@code bench serial} does). The same code serves both cases, so that only
 * the path differs: {@code scope = process} (the runtime opens the line itself) or
 * {@code scope = system} (the daemon owns the line and hands its descriptor to the runtime, which
 * then reads and writes the line itself: {@code ManCom-Carry: device}).
 *
 * <pre>
 *   rx   FileOutputStream(b) ──socat──&gt; serial://a (opened by the daemon or the runtime) ──&gt; runtime's receiver
 *   tx   runtime's connection ──&gt; serial://a ──socat──&gt; FileInputStream(b)
 * </pre>
 *
 * <h2>Lifecycle</h2>
 * {@link #config} goes into the config the daemon and the runtime read; {@link #register} once the
 * runtime runs; then {@link #check} and any number of {@link #rx}/{@link #tx}, one at a time. The
 * line stays open across transfers; the caller closes the runtime, the daemon and the pair.
 *
 * <h2>Threading</h2>
 * Transfers are driven from one thread, which also makes every write of a send (the writability
 * listener only wakes it): writes from different threads have no order between them (see
 * {@link Connection}). The receiver runs on the runtime's loop (one connection: one callback at a
 * time) and takes the current transfer from a volatile field.
 *
 * <h2>Errors</h2>
 * A transfer that does not complete within the timeout, or a line that closes, throws
 * {@link IOException} saying how far it got.
 */
final class PtyService {
    private final String name;
    private final PtyPair pty;
    private final byte[] data;
    private final int chunk;
    private final Duration timeout;
    private final CompletableFuture<Connection> line = new CompletableFuture<>();
    private volatile Sink sink;

    PtyService(String name, PtyPair pty, byte[] data, int chunk, Duration timeout) {
        this.name = name;
        this.pty = pty;
        this.data = data;
        this.chunk = chunk;
        this.timeout = timeout;
    }

    /** The service's config line: the pair's end a, owned by the daemon or by the process. */
    String config(boolean system) {
        return "mancom.services." + name + " { endpoint = \"serial://" + pty.a() + "\", scope = "
                + (system ? "system" : "process") + " }\n";
    }

    /** What one receive is waiting for. */
    private static final class Sink {
        final CompletableFuture<Long> done = new CompletableFuture<>();
        final MessageDigest md;
        final long total;
        long got; // written by the runtime's loop only

        Sink(long total, boolean digest) {
            this.total = total;
            this.md = digest ? sha256() : null;
        }
    }

    /** Takes the line's connection (relayed once the runtime attaches) and counts what it receives. */
    void register(ManCom mancom) {
        mancom.registerAcceptor(name, line::complete);
        mancom.registerDataReceiver(name, new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer d) {
                Sink s = sink;
                if (s == null) {
                    return; // between transfers nothing is written to the line
                }
                s.got += d.remaining();
                if (s.md != null) {
                    s.md.update(d);
                }
                if (s.got >= s.total) {
                    s.done.complete(System.nanoTime());
                }
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                Sink s = sink;
                IOException e = new IOException("the serial connection of '" + name + "' closed"
                        + (cause != null ? ": " + cause.getMessage() : ""), cause);
                if (s != null) {
                    s.done.completeExceptionally(e);
                }
                line.completeExceptionally(e);
            }
        });
    }

    /** Both directions once with a digest of what arrived (the figures mean nothing otherwise); warms up. */
    void check() throws Exception {
        if (!Arrays.equals(receive(true).digest, sha256().digest(data))) {
            throw new IOException("the bytes '" + name + "' received are not the bytes written;"
                    + " its figures would mean nothing");
        }
        SerialBenchCommand.Reader reader = new SerialBenchCommand.Reader(pty.b(), data.length, true);
        if (!Arrays.equals(reader.digest(send(reader)), sha256().digest(data))) {
            throw new IOException("the bytes '" + name + "' sent are not the bytes that arrived;"
                    + " its figures would mean nothing");
        }
    }

    /** Plain writer on b, the service on a: MB/s. */
    double rx() throws Exception {
        return Stats.mbPerSecond(data.length, receive(false).nanos);
    }

    /** The service on a, plain reader on b: MB/s. */
    double tx() throws Exception {
        SerialBenchCommand.Reader reader = new SerialBenchCommand.Reader(pty.b(), data.length, false);
        long t0 = send(reader);
        return Stats.mbPerSecond(data.length, reader.await(timeout) - t0);
    }

    private record Received(long nanos, byte[] digest) {
    }

    private Received receive(boolean digest) throws Exception {
        connection(); // the line is relayed to this process before the clock starts
        SerialBenchCommand.stty(pty.b());
        Sink s = new Sink(data.length, digest);
        sink = s;
        try {
            long t0 = System.nanoTime();
            try (FileOutputStream w = new FileOutputStream(pty.b().toFile())) {
                for (int off = 0; off < data.length; off += chunk) {
                    w.write(data, off, Math.min(chunk, data.length - off));
                }
            }
            long t1;
            try {
                t1 = s.done.get(timeout.toSeconds(), TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new IOException("'" + name + "' received " + s.got + " of " + data.length + " bytes in "
                        + timeout.toSeconds() + " s");
            }
            return new Received(t1 - t0, s.md != null ? s.md.digest() : null);
        } finally {
            sink = null;
        }
    }

    /**
     * Writes {@code data} on this thread, each chunk while the connection is writable (the
     * listener wakes it); returns when it started writing, once the reader has everything.
     */
    private long send(SerialBenchCommand.Reader reader) throws Exception {
        Connection c = connection();
        Semaphore writable = new Semaphore(0);
        c.setWritabilityListener((conn, w) -> {
            if (w) {
                writable.release();
            }
        });
        long t0 = System.nanoTime();
        for (int off = 0; off < data.length; ) {
            if (c.isWritable()) {
                int len = Math.min(chunk, data.length - off);
                c.write(data, off, len);
                off += len;
            } else {
                writable.tryAcquire(100, TimeUnit.MILLISECONDS); // re-checks isWritable either way
            }
        }
        reader.await(timeout);
        c.setWritabilityListener(null);
        return t0;
    }

    private Connection connection() throws Exception {
        try {
            return line.get(timeout.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IOException("'" + name + "' did not get its connection on " + pty.a() + " within "
                    + timeout.toSeconds() + " s");
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
