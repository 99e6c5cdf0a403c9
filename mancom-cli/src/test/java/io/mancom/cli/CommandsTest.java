package io.mancom.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code demo}, {@code bench tcp}, {@code ports}, help and command-line mistakes. */
class CommandsTest {
    private static final Pattern NUMBER = Pattern.compile("\\d+\\.\\d+");

    @TempDir
    Path dir;

    /** The machine's own config files must not change what the tests see. */
    private Path emptyConfig() throws IOException {
        return Files.writeString(dir.resolve("empty.conf"), "# nothing: the built-in defaults only\n");
    }

    @Test
    void demoDoesRoundTripsWithBothApisAndExitsZero() throws IOException {
        Cli.Result r = Cli.run("demo", "--config", emptyConfig().toString(), "--round-trips", "50");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        assertThat(r.out())
                .contains("service 'demo'")
                .contains("blocking (connect)")
                .contains("callback (connectAsync)")
                .contains("300 round trips")
                .contains("every echo byte-exact");
        assertThat(r.out().lines().filter(l -> l.contains("(connect")).count()).isEqualTo(6);
    }

    @Test
    void demoOfAServiceThatIsNotConfiguredIsAConfigError() throws IOException {
        Cli.Result r = Cli.run("demo", "--config", emptyConfig().toString(), "--service", "nosuch");

        assertThat(r.exitCode()).isEqualTo(Main.CONFIG);
        assertThat(r.err()).contains("nosuch").contains("demo").doesNotContain("\tat ");
    }

    @Test
    void benchTcpPrintsATableAndRatios() {
        Cli.Result r = Cli.run("bench", "tcp", "--seconds", "1", "--warmup", "0.2", "--runs", "1",
                "--connections", "2", "--size", "4096", "--window", "65536");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        List<String> lines = r.out().lines().toList();
        int header = indexOf(lines, "run");
        assertThat(lines.get(header).trim().split("\\s+")).containsExactly(
                "run", "netty", "MB/s", "callback", "MB/s", "blocking", "MB/s", "callback/netty", "blocking/netty");
        String[] run = lines.get(header + 1).trim().split("\\s+");
        assertThat(run).hasSize(6);
        assertThat(run[0]).isEqualTo("1");
        for (int i = 1; i < run.length; i++) {
            assertThat(run[i]).matches(NUMBER);
        }
        String[] median = lines.get(header + 2).trim().split("\\s+");
        assertThat(median).hasSize(6);
        assertThat(median[0]).isEqualTo("median");
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .matches("summary: callback API \\d+\\.\\d\\d of plain Netty, blocking API \\d+\\.\\d\\d .*"));
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .matches("round trip: callback API \\d+\\.\\d us, blocking API \\d+\\.\\d us, blocking/callback \\d+\\.\\d\\d .*"));
    }

    @Test
    void benchRejectsAWindowSmallerThanAWrite() {
        Cli.Result r = Cli.run("bench", "tcp", "--size", "65536", "--window", "1024");

        assertThat(r.exitCode()).isEqualTo(Main.FAILURE);
        assertThat(r.err().lines()).hasSize(1).first().asString().contains("--window");
    }

    @Test
    void portsListsThePortsOrSaysThereAreNone() {
        Cli.Result r = Cli.run("ports");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        // Which ports a machine has varies; the shape does not.
        String first = r.out().lines().findFirst().orElseThrow();
        assertThat(first).satisfiesAnyOf(
                l -> assertThat(l.split("\\s{2,}")).containsExactly("path", "description", "usb id", "serial number"),
                l -> assertThat(l).startsWith("no serial ports found"));
    }

    @Test
    void helpWorksOnEveryCommand() {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"demo", "--help"},
                new String[] {"serve", "--help"}, new String[] {"config", "--help"},
                new String[] {"config", "check", "--help"}, new String[] {"bench", "--help"},
                new String[] {"bench", "tcp", "--help"}, new String[] {"ports", "--help"})) {
            Cli.Result r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(Main.OK);
            assertThat(r.out()).as(String.join(" ", args)).startsWith("Usage: mancom");
        }
    }

    @Test
    void mistakesAreOneLineWithExitCodeOne() {
        for (String[] args : List.of(new String[] {}, new String[] {"nosuch"}, new String[] {"demo", "--bogus"},
                new String[] {"config"}, new String[] {"bench"}, new String[] {"demo", "--round-trips", "x"})) {
            Cli.Result r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(Main.FAILURE);
            assertThat(r.err().lines()).as(String.join(" ", args)).hasSize(1);
            assertThat(r.err()).startsWith("mancom");
        }
    }

    private static int indexOf(List<String> lines, String firstWord) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().startsWith(firstWord + " ")) {
                return i;
            }
        }
        throw new AssertionError("no line starting with '" + firstWord + "' in:\n" + String.join("\n", lines));
    }
}
