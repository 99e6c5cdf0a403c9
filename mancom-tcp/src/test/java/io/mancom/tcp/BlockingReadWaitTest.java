package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How a blocking read waits: it first watches for data for a short while (no lock, no wake-up
 * from the event loop), then parks. Data that comes while it watches, data that comes long after
 * it parked, an end of stream and a timeout shorter than the watch each end the wait as they
 * should, in every order of the two (a read that waited long parks at once the next time, one
 * whose data came quickly watches again).
 */
class BlockingReadWaitTest {
    private static final Duration T = Duration.ofSeconds(10);
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }

    private EndPoint server(ManCom m) throws Exception {
        return m.listen("wait", T);
    }

    private static Socket connect(EndPoint at) throws Exception {
        TcpAddress a = (TcpAddress) at.address();
        Socket s = new Socket(a.host(), a.port());
        s.setTcpNoDelay(true);
        s.setSoTimeout((int) T.toMillis());
        return s;
    }

    @Test
    void requestsThatComeAtOnceAndAfterPausesAreAllAnsweredInOrder() throws Exception {
        ManCom m = runtimes.start("mancom.services.wait { endpoint = \"tcp://127.0.0.1:0\" }");
        EndPoint at = server(m);
        CompletableFuture<Integer> served = CompletableFuture.supplyAsync(() -> {
            int n = 0;
            byte[] buf = new byte[64];
            try (BlockingConnection c = m.accept("wait", T)) {
                for (int r; (r = c.read(buf, T)) >= 0; ) {
                    c.write(buf, 0, r);
                    n += r;
                }
                return n;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        Random rnd = new Random(3);
        int sent = 0;
        try (Socket s = connect(at)) {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] msg = new byte[16];
            byte[] back = new byte[16];
            for (int i = 0; i < 400; i++) {
                // Runs of back-to-back requests (answered within the watch) and pauses of a few
                // milliseconds (the reader parks, and watches no more until a wait is short again).
                if (i % 50 >= 45) {
                    TimeUnit.MILLISECONDS.sleep(1 + rnd.nextInt(3)); // the pause is the point, not a synchronisation
                }
                rnd.nextBytes(msg);
                out.write(msg);
                sent += msg.length;
                int off = 0;
                while (off < back.length) {
                    int r = in.read(back, off, back.length - off);
                    assertThat(r).as("echo of request %d", i).isPositive();
                    off += r;
                }
                assertThat(back).as("echo of request %d", i).isEqualTo(msg);
            }
        }
        assertThat(served.get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(sent);
    }

    @Test
    void aTimeoutShorterThanTheWatchStillTimesOutAndTheEndOfStreamEndsAWatchingRead() throws Exception {
        ManCom m = runtimes.start("mancom.services.wait { endpoint = \"tcp://127.0.0.1:0\" }");
        EndPoint at = server(m);
        try (Socket s = connect(at); BlockingConnection c = m.accept("wait", T)) {
            byte[] buf = new byte[8];
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> c.read(buf, Duration.ofNanos(10_000)))
                    .isInstanceOf(ManComException.class)
                    .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(ManComException.Reason.TIMEOUT));
            assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
            // Quick exchanges, so the next read watches; the peer's close must end it with -1.
            for (int i = 0; i < 20; i++) {
                s.getOutputStream().write(i);
                assertThat(c.read(buf, T)).isEqualTo(1);
                assertThat(buf[0]).isEqualTo((byte) i);
            }
            CompletableFuture<Integer> last = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.read(buf, T);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            s.shutdownOutput();
            assertThat(last.get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(-1);
        }
    }
}
