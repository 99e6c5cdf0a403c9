package io.mancom.nativeshim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.ManCom;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * mancom_status_json from a real C program: after an echo of N bytes through the C API, the
 * document names the service with exactly N bytes in and out, and the snprintf contract holds
 * (the length without a buffer, a NUL-terminated prefix in a short one; checked by the program).
 */
@Timeout(60)
class CStatusJsonTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final int N = 100_003;

    @TempDir
    Path dir;

    @Test
    void aCProgramReadsItsOwnStatusWithItsServiceAndByteCounts() throws Exception {
        int port = CPrograms.freePort();
        String services = "mancom.services { echo { endpoint = \"tcp://127.0.0.1:" + port + "\" } }\n";
        try (ManCom server = TestManCom.start(services + "mancom.control = off")) {
            server.registerDataReceiver("echo", (c, data) -> c.write(data));
            server.awaitReady(T);
            Path config = CPrograms.config(dir, services + "mancom.runtime-dir = \"" + dir.resolve("run") + "\"");
            try (CProcess client = CPrograms.start(CPrograms.test("status_json"), config, List.of("echo",
                    Integer.toString(N)))) {
                assertThat(client.waitFor(T)).as(client::output).isZero();
                String line = client.stdout().stream().filter(l -> l.startsWith("json=")).findFirst().orElseThrow();
                JsonNode status = new ObjectMapper().readTree(line.substring("json=".length()));
                assertThat(status.get("pid").asLong()).isPositive().isNotEqualTo(ProcessHandle.current().pid());
                JsonNode echo = null;
                for (JsonNode service : status.get("services")) {
                    if (service.get("name").asText().equals("echo")) {
                        echo = service;
                    }
                }
                assertThat(echo).as("service echo in %s", status).isNotNull();
                assertThat(echo.get("transport").asText()).isEqualTo("TCP");
                assertThat(echo.get("bytesOut").asLong()).isEqualTo(N);
                assertThat(echo.get("bytesIn").asLong()).isEqualTo(N);
                assertThat(echo.get("connectionsOpen").asInt()).isZero();
                assertThat(status.get("channels")).isEmpty();
            }
        }
    }
}
