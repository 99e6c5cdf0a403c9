package io.mancom.serial;

import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code framing} on a serial line (a socat pty pair): onData receives whole messages. */
class FramingOverPtyTest {
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

    /** Each onData as a string; echoes it back when asked. */
    private record Messages(BlockingQueue<String> data, boolean echo) implements DataReceiver {
        Messages(boolean echo) {
            this(new LinkedBlockingQueue<>(), echo);
        }

        @Override
        public void onData(Connection c, ByteBuffer d) {
            if (echo) {
                c.write(d.duplicate());
            }
            data.add(StandardCharsets.UTF_8.decode(d).toString());
        }

        String next() throws InterruptedException {
            String s = data.poll(T.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(s).as("a message within " + T).isNotNull();
            return s;
        }
    }

    @Test
    void linesWrittenInPiecesByABlockingPeerArriveWhole() throws Exception {
        ManCom m = runtimes.start("mancom.services {\n"
                + " lines { endpoint = \"serial://" + pty.a() + "\", framing = lines }\n"
                + " raw.endpoint = \"serial://" + pty.b() + "\"\n}");
        Messages got = new Messages(false);
        m.registerDataReceiver("lines", got);
        m.awaitReady(T);

        try (BlockingConnection raw = m.connect("raw")) {
            for (String piece : new String[]{"ab", "c\nde", "f\n", "g\r\n"}) {
                raw.write(piece.getBytes(StandardCharsets.UTF_8));
            }
            assertThat(List.of(got.next(), got.next(), got.next())).containsExactly("abc\n", "def\n", "g\r\n");
        }
    }

    @Test
    void aLengthFieldCarriesWholeMessagesBothWays() throws Exception {
        String framing = "framing { length-field = 2, max-length = 8KiB }";
        ManCom m = runtimes.start("mancom.services {\n"
                + " echo { endpoint = \"serial://" + pty.a() + "\", " + framing + " }\n"
                + " peer { endpoint = \"serial://" + pty.b() + "\", " + framing + " }\n}");
        Messages served = new Messages(true);
        m.registerDataReceiver("echo", served);
        m.awaitReady(T);
        Messages replies = new Messages(false);

        Connection c = m.connectAsync("peer", replies).get(T.toSeconds(), TimeUnit.SECONDS);
        String big = "0123456789".repeat(500);
        c.write("one".getBytes(StandardCharsets.UTF_8));
        c.write(big.getBytes(StandardCharsets.UTF_8));
        c.write("three".getBytes(StandardCharsets.UTF_8));

        assertThat(List.of(served.next(), served.next(), served.next())).containsExactly("one", big, "three");
        assertThat(List.of(replies.next(), replies.next(), replies.next())).containsExactly("one", big, "three");
    }
}
