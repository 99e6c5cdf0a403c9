package io.mancom.nativeshim;

import io.mancom.ManCom;
import io.mancom.testkit.PtyPair;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The C blocking client over a serial line: a pty pair from socat, a Java echo on the other end. */
@Timeout(60)
class CSerialTest {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void cClientOverAPtyPair() throws Exception {
        PtyPair.require();
        try (PtyPair pty = PtyPair.start(dir);
             ManCom server = TestManCom.start("mancom.services.echo.endpoint = \"serial://" + pty.a() + "?baud=115200\"")) {
            server.registerDataReceiver("echo", (c, data) -> c.write(data));
            server.awaitReady(T);
            Path config = CPrograms.config(dir, "mancom.services.echo.endpoint = \"serial://" + pty.b() + "?baud=115200\"");
            try (CProcess client = CPrograms.start(CPrograms.sample("echo_client"), config, List.of("echo", "hello over serial"))) {
                assertThat(client.waitFor(T)).as(client.output()).isZero();
                assertThat(client.stdout()).containsExactly("hello over serial");
            }
            // A serial line is one stream of bytes: no half-close, and the error says so.
            try (CProcess client = CPrograms.start(CPrograms.test("half_close"), config, List.of("client", "echo", "10"))) {
                assertThat(client.waitFor(T)).as(client.output()).isEqualTo(1);
                assertThat(client.output()).contains("half_close: shutdown_output: ", "has no half-close");
            }
        }
    }
}
