package io.mancom.testkit;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.ManComException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every transport promises, run against each by subclassing: echo through both API styles,
 * half-close (or its clear refusal), a close cause when the link is lost, backpressure from a peer
 * that does not read, and a big transfer that arrives byte-exact.
 *
 * <p>The endpoint under test is the client service {@value #SERVICE} of a runtime the suite
 * starts; its peer is an {@link EchoPeer} the subclass starts (a socket, the far pty of a socat
 * pair, an in-memory USB device). The subclass gives:
 * <ul>
 *   <li>{@link #startPeer()}, called before each test;</li>
 *   <li>{@link #config()}, the HOCON that makes service {@value #SERVICE} reach that peer (its
 *       endpoint and whatever the transport needs besides);</li>
 *   <li>{@link #halfClose()}, whether the transport carries half-close (TCP does; a serial line and
 *       a USB device are one stream of bytes each way and do not).</li>
 * </ul>
 *
 * <p>Tests wait on events, never on sleeps; a test that needs an outside tool skips in
 * {@link #startPeer()} (JUnit assumptions) and should fail instead when {@code CI=true}.
 */
public abstract class TransportContractTest {
    /** The name of the service under test. */
    protected static final String SERVICE = "end";
    /** The longest any one step may take on a loaded build machine. */
    protected static final Duration T = Duration.ofSeconds(30);

    private final TestRuntimes runtimes = new TestRuntimes();
    /** The peer of the current test. */
    protected EchoPeer peer;
    /** The runtime of the current test, with service {@value #SERVICE}. */
    protected ManCom mancom;

    /** Starts the peer of one test; the suite closes it after the test. */
    protected abstract EchoPeer startPeer() throws Exception;

    /** HOCON that defines service {@value #SERVICE}, reaching the peer {@link #startPeer()} started. */
    protected abstract String config();

    /** Whether the transport carries half-close ({@link Connection#shutdownOutput()}). */
    protected abstract boolean halfClose();

    /**
     * How much {@link #aPeerThatDoesNotReadHoldsTheWriterBack()} tries to write: more than the
     * link and the operating system can buffer for a peer that does not read (16 MiB; TCP on
     * loopback needs more).
     */
    protected long backpressureBytes() {
        return 16 << 20;
    }

    /** The size of {@link #aBigTransferArrivesByteExact()}; 16 MiB unless a transport is slower. */
    protected int bigTransferBytes() {
        return 16 << 20;
    }

    @BeforeEach
    public final void startEndpoint() throws Exception {
        peer = startPeer();
        // No redial: a lost link must end the connection, not start a new one.
        mancom = runtimes.start(config() + "\nmancom.services." + SERVICE + ".reconnect.enabled = off\n");
    }

    @AfterEach
    public final void stopEndpoint() throws Exception {
        runtimes.close();
        if (peer != null) {
            peer.close();
        }
    }

    @Test
    public void blockingEcho() throws Exception {
        byte[] payload = pattern(0, 100_000);
        try (BlockingConnection c = mancom.connect(SERVICE, T)) {
            assertThat(c.service()).isEqualTo(SERVICE);
            c.write("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            assertThat(readExactly(c, 5)).isEqualTo("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> readExactly(c, payload.length));
            c.write(payload);
            assertThat(echoed.get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(payload);
        }
    }

    @Test
    public void callbackEcho() throws Exception {
        Checker echo = new Checker(100_000);
        Connection c = mancom.connectAsync(SERVICE, echo).get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(echo.opened.get(T.toSeconds(), TimeUnit.SECONDS)).as("onOpen before the first data").isSameAs(c);
        assertThat(c.service()).isEqualTo(SERVICE);
        c.write(pattern(0, 100_000)).toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS);
        echo.all.get(T.toSeconds(), TimeUnit.SECONDS);
        c.close();
        assertThat(echo.closed.get(T.toSeconds(), TimeUnit.SECONDS)).as("the cause of a clean close").isNull();
        assertThat(echo.closes.get()).isEqualTo(1);
    }

    @Test
    public void halfCloseOrItsRefusal() throws Exception {
        if (halfClose()) {
            // The peer echoes what it got, then ends its output when it sees the end of ours.
            byte[] payload = pattern(0, 50_000);
            try (BlockingConnection c = mancom.connect(SERVICE, T)) {
                c.write(payload);
                c.shutdownOutput();
                assertThatThrownBy(() -> c.write(new byte[1])).isInstanceOf(ManComException.class);
                assertThat(readExactly(c, payload.length)).isEqualTo(payload);
                assertThat(c.read(new byte[1], T)).as("the end of the peer's output").isEqualTo(-1);
            }
        } else {
            Checker echo = new Checker(5);
            Connection c = mancom.connectAsync(SERVICE, echo).get(T.toSeconds(), TimeUnit.SECONDS);
            assertThat(c.shutdownOutput().toCompletableFuture()).failsWithin(T)
                    .withThrowableOfType(ExecutionException.class).havingCause()
                    .isInstanceOfSatisfying(ManComException.class,
                            e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.IO))
                    .withMessageContaining("has no half-close");
            // The refusal leaves the connection as it was.
            c.write(pattern(0, 5));
            echo.all.get(T.toSeconds(), TimeUnit.SECONDS);
        }
    }

    @Test
    public void aLostLinkClosesTheConnectionOnceWithACause() throws Exception {
        Checker echo = new Checker(1000);
        Connection c = mancom.connectAsync(SERVICE, echo).get(T.toSeconds(), TimeUnit.SECONDS);
        c.write(pattern(0, 1000));
        echo.all.get(T.toSeconds(), TimeUnit.SECONDS); // the link is up end to end
        peer.cut();
        assertThat(echo.closed.get(T.toSeconds(), TimeUnit.SECONDS)).as("the close cause of a lost link")
                .isInstanceOf(ManComException.class);
        c.closeFuture().toCompletableFuture().handle((v, t) -> null).get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(c.isOpen()).isFalse();
        assertThat(echo.closes.get()).isEqualTo(1);
    }

    @Test
    public void aPeerThatDoesNotReadHoldsTheWriterBack() throws Exception {
        long total = backpressureBytes();
        Checker echo = new Checker(total);
        Connection c = mancom.connectAsync(SERVICE, echo).get(T.toSeconds(), TimeUnit.SECONDS);
        peer.pause();
        // A well-behaved writer: writes while the connection is writable, and again when told.
        // With a peer that reads nothing the link's buffers fill, then the connection's queue,
        // and the writer is held back far short of the total; without backpressure it would
        // write it all at once, into memory.
        // One writing thread: writes from two threads (say this one and the event loop, in the
        // listener) have no order between them.
        int chunk = 32 * 1024;
        java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
        Object told = new Object();
        c.setWritabilityListener((conn, writable) -> {
            synchronized (told) {
                told.notifyAll();
            }
        });
        CompletableFuture<Void> allWritten = CompletableFuture.runAsync(() -> {
            try {
                while (written.get() < total) {
                    synchronized (told) {
                        while (!c.isWritable()) {
                            told.wait(100); // the listener wakes it; the bound covers a change before the wait
                        }
                    }
                    int len = (int) Math.min(chunk, total - written.get());
                    c.write(pattern(written.get(), len));
                    written.addAndGet(len);
                }
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Await.until("the writer is held back", T, () -> !c.isWritable());
        long held = written.get();
        assertThat(held).as("bytes written to a peer that reads nothing").isLessThan(total);
        assertThat(allWritten).isNotDone();

        // The peer reads again: the writer is told, goes on, and every byte comes back in order.
        peer.resume();
        allWritten.get(2 * T.toSeconds(), TimeUnit.SECONDS);
        echo.all.get(2 * T.toSeconds(), TimeUnit.SECONDS);
        assertThat(echo.received.get()).isEqualTo(total);
    }

    @Test
    public void aBigTransferArrivesByteExact() throws Exception {
        int n = bigTransferBytes();
        try (BlockingConnection c = mancom.connect(SERVICE, T)) {
            CompletableFuture<Long> checked = CompletableFuture.supplyAsync(() -> {
                byte[] buf = new byte[64 * 1024];
                long got = 0;
                try {
                    while (got < n) {
                        int r = c.read(buf, 0, (int) Math.min(buf.length, n - got), T);
                        if (r < 0) {
                            throw new AssertionError("the echo ended after " + got + " of " + n + " bytes");
                        }
                        verify(got, buf, r);
                        got += r;
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return got;
            });
            int chunk = 32 * 1024;
            for (long off = 0; off < n; off += chunk) {
                c.write(pattern(off, (int) Math.min(chunk, n - off)));
            }
            assertThat(checked.get(2 * T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(n);
        }
    }

    // The bytes of every test are one endless pattern: byte i is PATTERN[i % PATTERN.length],
    // a prime length so chunk boundaries never line up with it. Checking costs no memory.
    private static final byte[] PATTERN = new byte[65_521];

    static {
        new Random(15).nextBytes(PATTERN);
    }

    /** {@code len} bytes of the pattern from stream position {@code from}. */
    protected static byte[] pattern(long from, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = PATTERN[(int) ((from + i) % PATTERN.length)];
        }
        return b;
    }

    private static void verify(long at, byte[] b, int len) {
        for (int i = 0; i < len; i++) {
            if (b[i] != PATTERN[(int) ((at + i) % PATTERN.length)]) {
                throw new AssertionError("byte " + (at + i) + " differs from what was sent");
            }
        }
    }

    private static byte[] readExactly(BlockingConnection c, int n) {
        byte[] out = new byte[n];
        int got = 0;
        try {
            while (got < n) {
                int r = c.read(out, got, n - got, T);
                if (r < 0) {
                    throw new AssertionError("end of stream after " + got + " of " + n + " bytes");
                }
                got += r;
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** A receiver that checks the echo against the pattern and counts close events. */
    private static final class Checker implements DataReceiver {
        final CompletableFuture<Connection> opened = new CompletableFuture<>();
        final CompletableFuture<Void> all = new CompletableFuture<>();
        final CompletableFuture<Throwable> closed = new CompletableFuture<>();
        final AtomicLong received = new AtomicLong();
        final AtomicInteger closes = new AtomicInteger();
        private volatile long expected;

        /** Completes {@link #all} after {@code expected} bytes; -1: not yet known ({@link #expect}). */
        Checker(long expected) {
            this.expected = expected;
        }

        void expect(long n) {
            expected = n;
            if (received.get() >= n) {
                all.complete(null);
            }
        }

        @Override
        public void onOpen(Connection connection) {
            opened.complete(connection);
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            int len = data.remaining();
            byte[] b = new byte[len];
            data.get(b);
            long at = received.get();
            try {
                verify(at, b, len);
            } catch (AssertionError e) {
                all.completeExceptionally(e);
                throw e;
            }
            long now = received.addAndGet(len);
            long want = expected;
            if (want >= 0 && now >= want) {
                all.complete(null);
            }
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            closes.incrementAndGet();
            closed.complete(cause);
            all.completeExceptionally(new AssertionError("closed after " + received.get() + " bytes", cause));
        }
    }
}
