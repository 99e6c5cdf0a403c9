package io.mancom.tcp;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TCP clients with {@code reconnect} on: a real server is stopped and started again on the same
 * port, and the client's receiver sees one close for the lost link and an open for the new one.
 */
class ReconnectTest {
    private static final Duration T = Duration.ofSeconds(15);
    private final TestRuntimes runtimes = new TestRuntimes();

    @AfterEach
    void close() {
        runtimes.close();
    }

    /** A port that was free a moment ago: the server must come back on the same one. */
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    private ManCom echoServer(String config) throws ManComException {
        ManCom server = runtimes.start(config);
        server.registerDataReceiver("echo", (c, d) -> c.write(d));
        server.awaitReady(T);
        return server;
    }

    /** What a client's receiver saw, in order. */
    private record Event(String kind, Connection connection, String detail) {
    }

    private static final class Recorder implements DataReceiver {
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        final Map<Connection, StringBuilder> data = new ConcurrentHashMap<>();

        @Override
        public void onOpen(Connection connection) {
            events.add(new Event("open", connection, null));
        }

        @Override
        public void onData(Connection connection, ByteBuffer d) {
            String s = StandardCharsets.UTF_8.decode(d).toString();
            data.computeIfAbsent(connection, k -> new StringBuilder()).append(s);
            events.add(new Event("data", connection, s));
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            events.add(new Event("close", connection, cause == null ? null : cause.toString()));
        }

        Event next() throws InterruptedException {
            Event e = events.poll(T.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(e).as("an event within " + T).isNotNull();
            return e;
        }

        /** The next event that is not data (data is checked through {@link #data}). */
        Event nextNotData() throws InterruptedException {
            Event e;
            do {
                e = next();
            } while (e.kind().equals("data"));
            return e;
        }

        void awaitEcho(Connection c, String text) throws InterruptedException {
            while (!data.getOrDefault(c, new StringBuilder()).toString().equals(text)) {
                Event e = next();
                assertThat(e.kind()).as("while waiting for the echo of " + text).isEqualTo("data");
            }
        }
    }

    @Test
    void aReconnectingClientSurvivesAServerRestartOnTheSamePort() throws Exception {
        int port = freePort();
        String config = "mancom.services.echo.endpoint = \"tcp://127.0.0.1:" + port + "\"";
        ManCom first = echoServer(config);
        ManCom client = runtimes.start(config
                + "\nmancom.services.echo.reconnect { enabled = on, initial-delay = 20ms, max-delay = 200ms }");
        Recorder r = new Recorder();

        Connection c1 = client.connectAsync("echo", r).get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(r.next()).isEqualTo(new Event("open", c1, null));
        c1.write(ByteBuffer.wrap("one".getBytes(StandardCharsets.UTF_8)));
        r.awaitEcho(c1, "one");

        first.close();
        Event lost = r.nextNotData();
        assertThat(lost.kind()).isEqualTo("close");
        assertThat(lost.connection()).isSameAs(c1);

        // The client keeps dialling (refused, with backoff) until the server is back on the port.
        echoServer(config);
        Event reopened = r.nextNotData();
        assertThat(reopened.kind()).isEqualTo("open");
        Connection c2 = reopened.connection();
        assertThat(c2).isNotSameAs(c1);
        assertThat(c2.isOpen()).isTrue();
        c2.write(ByteBuffer.wrap("two".getBytes(StandardCharsets.UTF_8)));
        r.awaitEcho(c2, "two");
        assertThat(r.data.get(c1).toString()).isEqualTo("one");

        // The application's own close ends it: one close event, no error.
        c2.close();
        assertThat(r.nextNotData()).isEqualTo(new Event("close", c2, null));
    }

    @Test
    void withoutReconnectSetAClientsFirstConnectStillFailsWhenRefused() throws Exception {
        int port = freePort();
        ManCom client = runtimes.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:" + port + "\"");

        assertThatThrownBy(() -> client.connectAsync("echo", new Recorder()).get(T.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(ManComException.class,
                        e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.UNREACHABLE));
    }

    @Test
    void withReconnectOnTheFirstConnectFailsAsBeforeAndDoesNotRetry() throws Exception {
        int port = freePort();
        ManCom client = runtimes.start("mancom.services.echo { endpoint = \"tcp://127.0.0.1:" + port + "\", "
                + "reconnect = on }");

        assertThatThrownBy(() -> client.connectAsync("echo", new Recorder()).get(T.toSeconds(), TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .hasMessageContaining("connection refused");
    }
}
