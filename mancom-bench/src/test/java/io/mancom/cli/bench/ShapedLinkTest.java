package io.mancom.cli.bench;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shaped link of {@code bench sniff}: bytes pass unchanged both ways, and the connections
 * through it share its rate (a lower bound on the time they take, which load cannot break).
 */
class ShapedLinkTest {
    @Test
    void theBudgetIsSharedAndAnIdleLinkSavesUpOnlyItsSlack() {
        ShapedLink.Budget budget = new ShapedLink.Budget(1e6); // 1 byte per microsecond
        long t0 = System.nanoTime();

        long first = budget.take(1000);
        long second = budget.take(1000);

        // The first chunk may start up to the slack in the past, never earlier; the second one
        // follows it on the link.
        assertThat(first).isBetween(t0 - ShapedLink.Budget.SLACK_NANOS + 1_000_000, System.nanoTime() + 1_000_000);
        assertThat(second - first).isEqualTo(1_000_000);
    }

    @Test
    void twoConnectionsEchoByteExactAndTogetherTakeTheLinksTime() throws Exception {
        byte[] payload = new byte[1 << 20];
        new Random(7).nextBytes(payload);
        try (ServerSocket echo = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
             ShapedLink link = new ShapedLink(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(),
                     echo.getLocalPort()), 8e6)) {
            Thread server = new Thread(() -> {
                try {
                    while (true) {
                        Socket s = echo.accept();
                        Thread t = new Thread(() -> {
                            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                                in.transferTo(out);
                            } catch (Exception ignored) {
                                // the client went
                            }
                        });
                        t.setDaemon(true);
                        t.start();
                    }
                } catch (Exception closed) {
                    // the test ended
                }
            });
            server.setDaemon(true);
            server.start();

            long t0 = System.nanoTime();
            List<CompletableFuture<byte[]>> back = new ArrayList<>();
            for (int c = 0; c < 2; c++) {
                back.add(CompletableFuture.supplyAsync(() -> roundTrip(link, payload)));
            }
            for (CompletableFuture<byte[]> f : back) {
                byte[] got = f.get(60, TimeUnit.SECONDS);
                assertThat(got.length).isEqualTo(payload.length);
                assertThat(java.util.Arrays.mismatch(got, payload)).isEqualTo(-1);
            }
            // 2 MiB each way over 8 MB/s shared: at least 0.26 s, less the slack saved up at the start.
            long nanos = System.nanoTime() - t0;
            assertThat(nanos).isGreaterThan((long) (2.0 * payload.length / 8e6 * 1e9) - ShapedLink.Budget.SLACK_NANOS);
        }
    }

    private static byte[] roundTrip(ShapedLink link, byte[] payload) {
        try (Socket s = new Socket()) {
            s.connect(link.address(), 5_000);
            s.setSoTimeout(60_000);
            Thread writer = new Thread(() -> {
                try {
                    s.getOutputStream().write(payload);
                    s.shutdownOutput();
                } catch (Exception ignored) {
                    // the read below fails then
                }
            });
            writer.start();
            byte[] got = s.getInputStream().readAllBytes();
            writer.join();
            return got;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
