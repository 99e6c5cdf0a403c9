package io.mancom.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code mancom config check FILE}: the report on a good file, the messages and exit code on bad ones. */
class ConfigCheckTest {
    @TempDir
    Path dir;

    /**
     * --verbose sets JVM-wide logging properties, which slf4j-simple reads once, when it starts:
     * start it first, and undo them after each test, so one test's --verbose does not make the
     * rest of the build chatty.
     */
    private static final String[] LOGGING = {"org.slf4j.simpleLogger.defaultLogLevel", "org.slf4j.simpleLogger.log.io.mancom"};
    private static final String[] before = new String[LOGGING.length];

    @BeforeAll
    static void startLogging() {
        LoggerFactory.getLogger(ConfigCheckTest.class);
        for (int i = 0; i < LOGGING.length; i++) {
            before[i] = System.getProperty(LOGGING[i]);
        }
    }

    @AfterEach
    void restoreLogging() {
        for (int i = 0; i < LOGGING.length; i++) {
            if (before[i] == null) {
                System.clearProperty(LOGGING[i]);
            } else {
                System.setProperty(LOGGING[i], before[i]);
            }
        }
    }

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    @Test
    void goodFilePrintsLayersServicesAndWhereEachValueCameFrom() throws IOException {
        Path f = write("good.conf", String.join("\n",
                "# two services",
                "mancom.services {",
                "  echo { endpoint = \"tcp://127.0.0.1:7000\" }",
                "  sink {",
                "    endpoint = \"tcp://0.0.0.0:7001\"",
                "    handler = discard",
                "  }",
                "}",
                ""));

        Cli.Result r = Cli.run("config", "check", f.toString());

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        assertThat(r.err()).isEmpty();
        assertThat(r.out())
                .contains("reference.conf")
                .contains(f + "  present")
                .contains("Service echo: tcp://127.0.0.1:7000")
                .contains("Service sink: tcp://0.0.0.0:7001")
                .contains("OK: 3 services (demo, echo, sink)");
        assertThat(r.out().lines().filter(l -> l.contains("handler = discard")).findFirst().orElseThrow())
                .endsWith(f + ":6");
        assertThat(r.out().lines().filter(l -> l.contains("endpoint = tcp://127.0.0.1:7000")).findFirst().orElseThrow())
                .endsWith(f + ":3");
        assertThat(r.out().lines().filter(l -> l.contains("connect-timeout = 5s")).findFirst().orElseThrow())
                .contains("reference.conf");
    }

    @Test
    void badValueNamesFileLineAndKeyAndExitsTwo() throws IOException {
        Path f = write("bad.conf", String.join("\n",
                "mancom.services.echo {",
                "  endpoint = \"tcp://127.0.0.1:7000\"",
                "  connect-timeout = soon",
                "}",
                ""));

        Cli.Result r = Cli.run("config", "check", f.toString());

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith(f + ":3: mancom.services.echo.connect-timeout: ")
                .contains("soon")
                .doesNotContain("\tat ");
    }

    @Test
    void aMuxServiceNameNoPreambleCanCarryIsRejected() throws IOException {
        String name = "n".repeat(300);
        Path f = write("long.conf", String.join("\n",
                "mancom.services." + name + " {",
                "  endpoint = \"tcp://127.0.0.1:7000\"",
                "  mux = on",
                "}",
                ""));

        Cli.Result r = Cli.run("config", "check", f.toString());

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err()).startsWith(f + ":3: mancom.services." + name + ".mux: ")
                .contains("300 bytes of UTF-8, but a mux stream's preamble carries at most 255");
    }

    @Test
    void aSizeNoMachineCanHonourIsRejectedWithItsMaximum() throws IOException {
        Path f = write("huge.conf", String.join("\n",
                "mancom.services.echo {",
                "  endpoint = \"tcp://127.0.0.1:7000\"",
                "  mux { enabled = on, receive-buffer = 1TiB }",
                "}",
                ""));

        Cli.Result r = Cli.run("config", "check", f.toString());

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err()).contains(f + ":3: mancom.services.echo.mux.receive-buffer: found \"1TiB\"")
                .contains("from 64KiB to 64GiB");
    }

    @Test
    void everyProblemIsListedOneLineEach() throws IOException {
        Path f = write("typos.conf", String.join("\n",
                "mancom.services.echo {",
                "  endpiont = \"tcp://127.0.0.1:7000\"",
                "  handlr = echo",
                "}",
                ""));

        Cli.Result r = Cli.run("config", "check", f.toString());

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err()).contains(f + ":2:").contains("endpiont").contains(f + ":3:").contains("handlr");
        assertThat(r.err().lines()).allSatisfy(l -> assertThat(l).startsWith(f.toString()));
    }

    @Test
    void syntaxErrorIsAConfigError() throws IOException {
        Path f = write("syntax.conf", "mancom.services.echo {\n  endpoint = \"tcp://127.0.0.1:7000\"\n");

        Cli.Result r = Cli.run("config", "check", f.toString());

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err()).startsWith(f.toString()).doesNotContain("\tat ");
    }

    @Test
    void missingFileIsAConfigError() {
        Path f = dir.resolve("nowhere.conf");

        Cli.Result r = Cli.run("config", "check", f.toString());

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err()).contains(f.toString());
    }

    @Test
    void verboseAddsTheStackTrace() throws IOException {
        Path f = write("bad.conf", "mancom.services.echo.endpoint = \"ftp://x\"\n");

        Cli.Result r = Cli.run("--verbose", "config", "check", f.toString());

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err()).startsWith(f + ":1: mancom.services.echo.endpoint: ").contains("\tat ");
    }

    /** A file with one echo service on 127.0.0.1:7000 and {@code tcpLine} (line 3) in its block. */
    private Path echoWithTcp(String name, String tcpLine) throws IOException {
        return write(name, String.join("\n", "mancom.services.echo {", "  endpoint = \"tcp://127.0.0.1:7000\"",
                "  " + tcpLine, "}"));
    }

    @Test
    void allowListsSayWhereTheyAreEnforcedAndBadBlocksAreRejectedWithTheirLine() throws IOException {
        Path f = echoWithTcp("allow.conf", "tcp { allow = [\"127.0.0.1/32\", \"::1/128\"], max-connections = 100 }");
        Cli.Result r = Cli.run("config", "check", f.toString());
        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        String line = r.out().lines().filter(l -> l.startsWith("Service echo: tcp.allow")).findFirst().orElseThrow();
        assertThat(line).contains("[127.0.0.1/32, ::1/128]");
        // Linux with native epoll (CI) filters in the kernel; anywhere else the line says why not.
        assertThat(line).containsAnyOf("enforced in the kernel", "enforced after accept");
        if (io.netty.channel.epoll.Epoll.isAvailable() && "true".equals(System.getenv("CI"))) {
            assertThat(line).contains("enforced in the kernel");
        }

        Path bad = echoWithTcp("bad.conf", "tcp.deny = [\"10.0.0.0/8\", \"300.1.1.1\"]");
        Cli.Result e = Cli.run("config", "check", bad.toString());
        assertThat(e.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(e.err()).startsWith(bad + ":3: mancom.services.echo.tcp.deny: found \"300.1.1.1\"");
    }
}
