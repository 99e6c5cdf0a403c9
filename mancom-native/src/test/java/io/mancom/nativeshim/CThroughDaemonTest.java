package io.mancom.nativeshim;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.daemon.ManComDaemon;
import io.mancom.spi.RuntimeOptions;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A C program serves a {@code scope = system} service without a line changed: the quickstart
 * from the README, as it is printed, attaches to a real daemon and echoes connections the daemon
 * accepted and handed over to the C process.
 */
@Timeout(90)
class CThroughDaemonTest {
    private static final Duration T = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void theQuickstartServesASystemServiceThroughTheDaemon() throws Exception {
        Path source = dir.resolve("quickstart.c");
        Files.writeString(source, QuickstartTest.quickstart(CPrograms.REPO.resolve("README.md")));
        Path exe = CPrograms.compile(source);
        int port = CPrograms.freePort();
        String services = "mancom.runtime-dir = \"" + dir.resolve("run") + "\"\n"
                + "mancom.services { echo { endpoint = \"tcp://127.0.0.1:" + port + "\", scope = system } }\n";
        Path config = CPrograms.config(dir, services);
        RuntimeOptions daemonOptions = RuntimeOptions.defaults().withConfigFile(config)
                .withSystemConfigDir(dir.resolve("etc")).withUserConfigDir(dir.resolve("user"))
                .withEnvironment(Map.of()).withSystemProperties(new Properties());
        Map<String, String> env = Map.of("MANCOM_JVM_OPTS", "-Xmx128m -XX:TieredStopAtLevel=1 "
                + "-Dorg.slf4j.simpleLogger.logFile=System.out "
                + "-Dorg.slf4j.simpleLogger.log.io.mancom.core.internal.Binder=debug");
        try (ManComDaemon daemon = ManComDaemon.start(daemonOptions);
             CProcess server = CPrograms.start(exe, config, List.of(), env);
             ManCom client = TestManCom.start(services)) {
            // The runtime's debug line: the service serves where the daemon bound it.
            server.awaitLine("serving on tcp://127.0.0.1:" + port, T);
            try (BlockingConnection c = client.connect("echo", T)) {
                byte[] hello = "hello from C, through the daemon".getBytes(StandardCharsets.US_ASCII);
                c.write(hello);
                byte[] back = new byte[hello.length];
                int n = 0;
                while (n < back.length) {
                    int r = c.read(back, n, back.length - n, T);
                    assertThat(r).as(server::output).isPositive();
                    n += r;
                }
                assertThat(back).isEqualTo(hello);
            }
            assertThat(server.output()).contains("service 'echo' serving on tcp://127.0.0.1:" + port);
            assertThat(server.stop(T)).as(server::output).isEqualTo(128 + 15);
        }
    }
}
