package io.mancom.serial;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.testkit.Await;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code link = reliable} on real pty pairs (socat): the mux runs on it unchanged, and when socat
 * is killed mid-transfer (the cable pulled: both devices fail with EIO) and started again 2 s
 * later, the same session resumes: the same connections, every byte once.
 */
class ReliableLinkPtyTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private PtyPair pty;
    private final TestRuntimes runtimes = new TestRuntimes();

    @BeforeEach
    void startPty() throws IOException {
        PtyPair.require();
        pty = PtyPair.start(dir);
    }

    @AfterEach
    void stop() throws IOException {
        runtimes.close();
        if (pty != null) {
            pty.close();
        }
    }

    private static String services(Path end, String... names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            sb.append("mancom.services.").append(n).append(" { endpoint = \"serial://").append(end)
                    .append("?baud=921600\", mux = on, link = reliable, reconnect { initial-delay = 50ms, max-delay = 200ms } }\n");
        }
        return sb.toString();
    }

    private static DataReceiver collector(int n, CompletableFuture<byte[]> done, AtomicInteger closes, AtomicLong progress) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        return new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                synchronized (got) {
                    got.writeBytes(b);
                    progress.addAndGet(b.length);
                    if (got.size() >= n) {
                        done.complete(got.toByteArray());
                    }
                }
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                closes.incrementAndGet();
                done.completeExceptionally(cause != null ? cause : new IllegalStateException("closed after " + got.size()));
            }
        };
    }

    @Test
    void aLineUnpluggedForTwoSecondsMidTransferResumesWithNothingLostOrDuplicated() throws Exception {
        ManCom b = runtimes.start(services(pty.b(), "alpha", "beta"));
        AtomicInteger served = new AtomicInteger();
        for (String s : List.of("alpha", "beta")) {
            b.registerAcceptor(s, c -> served.incrementAndGet());
            b.registerDataReceiver(s, (c, d) -> c.write(d));
        }
        b.awaitReady(T);
        ManCom a = runtimes.start(services(pty.a(), "alpha", "beta"));
        int size = 192 * 1024;
        List<byte[]> sent = new ArrayList<>();
        List<CompletableFuture<byte[]>> echoed = new ArrayList<>();
        List<Connection> streams = new ArrayList<>();
        AtomicInteger closes = new AtomicInteger();
        AtomicLong progress = new AtomicLong();
        for (String s : List.of("alpha", "beta")) {
            byte[] p = new byte[size];
            new Random(s.hashCode()).nextBytes(p);
            sent.add(p);
            CompletableFuture<byte[]> done = new CompletableFuture<>();
            echoed.add(done);
            streams.add(a.connectAsync(s, collector(size, done, closes, progress)).get(T.toSeconds(), TimeUnit.SECONDS));
        }
        for (int off = 0; off < size; off += 4096) {
            for (int i = 0; i < streams.size(); i++) {
                streams.get(i).write(sent.get(i), off, 4096);
            }
        }
        // Let the transfer get going in both directions, then pull the cable for 2 s.
        Await.until("some echo back", () -> progress.get() > 32 * 1024);
        assertThat(progress.get()).as("mid-transfer").isLessThan(size);
        pty.kill();
        Thread.sleep(2_000); // the unplugged time itself, not a wait for something to happen
        pty.restart();
        for (int i = 0; i < streams.size(); i++) {
            assertThat(echoed.get(i).get(120, TimeUnit.SECONDS)).as("stream %d", i).isEqualTo(sent.get(i));
        }
        assertThat(closes.get()).as("no stream saw its connection end").isZero();
        assertThat(served.get()).as("the same two streams, not new ones").isEqualTo(2);
    }
}
