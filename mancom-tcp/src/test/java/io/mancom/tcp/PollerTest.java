package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.Poller;
import io.mancom.Poller.Event;
import io.mancom.TcpAddress;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Poller} over real loopback sockets: one thread serves many blocking connections. */
@Timeout(60)
class PollerTest {
    private static final Duration T = Duration.ofSeconds(20);
    private final List<AutoCloseable> open = new ArrayList<>();
    private ManCom server;
    private ManCom client;

    private void start() throws IOException {
        server = TestManCom.start("mancom.services { echo { endpoint = \"tcp://127.0.0.1:0\" } }");
        open.add(server);
        EndPoint bound = server.listen("echo", T);
        int port = ((TcpAddress) bound.address()).port();
        client = TestManCom.start("mancom.services { echo { endpoint = \"tcp://127.0.0.1:" + port + "\" } }");
        open.add(client);
    }

    @AfterEach
    void close() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    private static byte[] pattern(int connection, int len) {
        byte[] b = new byte[len];
        for (int i = 0; i < len; i++) {
            b[i] = (byte) (connection * 31 + i * 7);
        }
        return b;
    }

    @Test
    void oneThreadServesAHundredConnections() throws Exception {
        start();
        int n = 100;
        int len = 8 * 1024 + 123;
        Poller poller = server.newPoller();
        open.add(poller);
        poller.registerAccept("echo");
        Set<String> servingThreads = new HashSet<>();
        CompletableFuture<Integer> served = CompletableFuture.supplyAsync(() -> {
            int accepted = 0;
            int ended = 0;
            byte[] buf = new byte[4096];
            try {
                while (ended < n) {
                    for (Poller.Ready r : poller.poll(T)) {
                        servingThreads.add(Thread.currentThread().getName());
                        if (r.is(Event.ACCEPTABLE)) {
                            BlockingConnection c = server.accept(r.service(), Duration.ZERO);
                            accepted++;
                            poller.register(c, Set.of(Event.READABLE));
                        } else if (r.is(Event.READABLE)) {
                            BlockingConnection c = r.connection();
                            int got = c.read(buf, Duration.ZERO); // ready: does not wait
                            if (got < 0) {
                                poller.deregister(c);
                                c.close();
                                ended++;
                            } else {
                                c.write(buf, 0, got);
                            }
                        }
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return accepted;
        }, runnable -> new Thread(runnable, "poller-server").start());

        List<BlockingConnection> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BlockingConnection c = client.connect("echo", T);
            clients.add(c);
            c.write(pattern(i, len));
        }
        for (int i = 0; i < n; i++) {
            byte[] back = new byte[len];
            int got = 0;
            while (got < len) {
                int r = clients.get(i).read(back, got, len - got, T);
                assertThat(r).as("connection %d: bytes before end of stream", i).isPositive();
                got += r;
            }
            assertThat(Arrays.equals(back, pattern(i, len))).as("connection %d echoed byte-exact", i).isTrue();
        }
        clients.forEach(BlockingConnection::close);
        assertThat(served.get(T.toSeconds(), TimeUnit.SECONDS)).isEqualTo(n);
        assertThat(servingThreads).containsExactly("poller-server");
    }

    @Test
    void aConnectionIsAcceptableThenReadableThenClosed() throws Exception {
        start();
        try (Poller poller = server.newPoller()) {
            poller.registerAccept("echo");
            assertThat(poller.poll(Duration.ZERO)).as("nobody connected yet").isEmpty();

            BlockingConnection c = client.connect("echo", T);
            open.add(c);
            List<Poller.Ready> ready = poller.poll(T);
            assertThat(ready).hasSize(1);
            assertThat(ready.get(0).events()).containsExactly(Event.ACCEPTABLE);
            assertThat(ready.get(0).service()).isEqualTo("echo");
            assertThat(ready.get(0).connection()).isNull();
            BlockingConnection s = server.accept("echo", Duration.ZERO);
            open.add(s);
            assertThat(poller.poll(Duration.ZERO)).as("accepted: nothing waits any more").isEmpty();

            poller.register(s, Set.of(Event.READABLE));
            assertThat(poller.poll(Duration.ZERO)).as("no data yet").isEmpty();
            c.write(new byte[]{42});
            ready = poller.poll(T);
            assertThat(ready).singleElement().satisfies(r -> {
                assertThat(r.connection()).isSameAs(s);
                assertThat(r.events()).containsExactly(Event.READABLE);
            });
            assertThat(s.read(new byte[8], Duration.ZERO)).isEqualTo(1);

            c.close();
            ready = poller.poll(T);
            assertThat(ready).singleElement().satisfies(r -> assertThat(r.events()).contains(Event.READABLE));
            // the peer's close ends the stream; CLOSED comes with the link's close
            assertThat(s.read(new byte[8], T)).isEqualTo(-1);
            s.close();
            ready = poller.poll(T);
            assertThat(ready).singleElement().satisfies(r -> assertThat(r.events()).contains(Event.CLOSED));
        }
    }

    @Test
    void closedIsReportedWithoutInterestAndWritableOnRequest() throws Exception {
        start();
        try (Poller poller = server.newPoller()) {
            BlockingConnection c = client.connect("echo", T);
            open.add(c);
            BlockingConnection s = server.accept("echo", T);
            open.add(s);
            poller.register(c, Set.of());
            assertThat(poller.poll(Duration.ZERO)).isEmpty();
            poller.register(c, Set.of(Event.WRITABLE));
            assertThat(poller.poll(Duration.ZERO)).singleElement()
                    .satisfies(r -> assertThat(r.events()).containsExactly(Event.WRITABLE));
            poller.register(c, Set.of());
            s.close();
            // The peer's close is an end of stream (READABLE, not asked for here): the link stays
            // open for writing until this side closes it (half-close).
            assertThat(poller.poll(Duration.ZERO)).isEmpty();
            c.close();
            List<Poller.Ready> ready = poller.poll(T);
            assertThat(ready).singleElement().satisfies(r -> assertThat(r.events()).containsExactly(Event.CLOSED));
            assertThat(ready.get(0).connection()).isSameAs(c);
        }
    }

    @Test
    void wakeupAndCloseEndAWaitingPoll() throws Exception {
        start();
        Poller poller = server.newPoller();
        open.add(poller);
        poller.registerAccept("echo");
        CompletableFuture<List<Poller.Ready>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return poller.poll(Duration.ofDays(1));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
        poller.wakeup();
        assertThat(waiting.get(T.toSeconds(), TimeUnit.SECONDS)).isEmpty();
        poller.wakeup(); // before a poll: that poll returns at once
        assertThat(poller.poll(Duration.ofDays(1))).isEmpty();
        poller.close();
        assertThat(poller.poll(Duration.ofDays(1))).isEmpty();
    }
}
