package io.mancom.tcp;

import io.mancom.BlockingConnection;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The same application code, pointed at different endpoints by two config files. */
class TransportByConfigTest {

    /** The application: serves "greeter" and asks it once. Knows nothing of transports. */
    static String runApplication(ManCom mancom) throws Exception {
        mancom.registerDataReceiver("greeter", (conn, data) -> {
            byte[] name = new byte[data.remaining()];
            data.get(name);
            conn.write(("hello, " + new String(name, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
        });
        mancom.awaitReady(Duration.ofSeconds(5));
        try (BlockingConnection c = mancom.connect("greeter")) {
            c.write("world".getBytes(StandardCharsets.UTF_8));
            return new String(EchoTest.readExactly(c, "hello, world".length()), StandardCharsets.UTF_8);
        }
    }

    @Test
    void twoConfigFilesMoveTheServiceWithoutACodeChange(@TempDir Path dir) throws Exception {
        Path v4 = Files.writeString(dir.resolve("v4.conf"), "mancom.services.greeter.endpoint = \"tcp://127.0.0.1:0\"\n");
        Path v6 = Files.writeString(dir.resolve("v6.conf"), "mancom.services.greeter.endpoint = \"tcp://[::1]:0\"\n");
        for (Path config : new Path[]{v4, v6}) {
            try (ManCom mancom = ManCom.start(config)) {
                assertThat(runApplication(mancom)).isEqualTo("hello, world");
                EndPoint bound = mancom.boundEndPoint("greeter").orElseThrow();
                String expectedHost = config == v4 ? "127.0.0.1" : "::1";
                assertThat(((TcpAddress) bound.address()).host()).isEqualTo(expectedHost);
            }
        }
    }
}
