package io.mancom.nativeshim;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The C quickstart as the documents print it: extracted from README.md and docs/c-api.md,
 * compiled with the manual's command line (warnings are errors) and run as an echo server, so
 * the snippet a newcomer copies cannot rot.
 */
@Timeout(60)
class QuickstartTest {
    private static final Duration T = Duration.ofSeconds(20);
    private static final Pattern C_BLOCK = Pattern.compile("```c\\n(.*?)```", Pattern.DOTALL);

    @TempDir
    Path dir;

    /** The first C block of {@code doc} that calls mancom_init: the quickstart. */
    static String quickstart(Path doc) throws Exception {
        Matcher m = C_BLOCK.matcher(Files.readString(doc));
        while (m.find()) {
            if (m.group(1).contains("mancom_init(")) {
                return m.group(1);
            }
        }
        throw new AssertionError(doc + " has no C block that calls mancom_init");
    }

    @ParameterizedTest
    @ValueSource(strings = {"README.md", "docs/c-api.md"})
    void theQuickstartCompilesAndEchoes(String doc) throws Exception {
        Path source = dir.resolve("quickstart_" + doc.replaceAll("\\W", "_") + ".c");
        Files.writeString(source, quickstart(CPrograms.REPO.resolve(doc)));
        Path exe = CPrograms.compile(source);

        int port = CPrograms.freePort();
        String services = "mancom.services { echo { endpoint = \"tcp://127.0.0.1:" + port + "\" } }";
        Path config = CPrograms.config(dir, services);
        // The snippet prints nothing; the runtime's debug line says when the service is bound.
        Map<String, String> env = Map.of("MANCOM_JVM_OPTS", "-Xmx128m -XX:TieredStopAtLevel=1 "
                + "-Dorg.slf4j.simpleLogger.logFile=System.out "
                + "-Dorg.slf4j.simpleLogger.log.io.mancom.core.internal.Binder=debug");
        try (CProcess server = CPrograms.start(exe, config, List.of(), env);
             ManCom client = TestManCom.start(services);
             BlockingConnection c = awaitServing(server, client)) {
            byte[] hello = "hello, quickstart".getBytes(StandardCharsets.US_ASCII);
            c.write(hello);
            byte[] back = new byte[hello.length];
            int n = 0;
            while (n < back.length) {
                int r = c.read(back, n, back.length - n, T);
                assertThat(r).as(server::output).isPositive();
                n += r;
            }
            assertThat(new String(back, StandardCharsets.US_ASCII)).isEqualTo("hello, quickstart");
            // pause() returns only through a signal: SIGTERM ends it as its default action does.
            assertThat(server.stop(T)).as(server::output).isEqualTo(128 + 15);
        }
    }

    private static BlockingConnection awaitServing(CProcess server, ManCom client) throws Exception {
        server.awaitLine("serving on", T);
        return client.connect("echo", T);
    }
}
