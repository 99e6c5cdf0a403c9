package io.mancom.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code demo}, {@code ports}, {@code help}, {@code bench} without its jar, and command-line mistakes. */
class CommandsTest {
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
    void benchSaysWhereTheBenchmarksAreWhenTheirJarIsMissing() {
        // mancom-bench is not on this module's class path: the production jar has no benchmarks.
        Cli.Result r = Cli.run("bench", "tcp", "--runs", "1");

        assertThat(r.exitCode()).isEqualTo(Main.FAILURE);
        assertThat(r.err().lines()).hasSize(1).first().asString().contains("mancom-bench");
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
                new String[] {"ports", "--help"}, new String[] {"help", "serve"})) {
            Cli.Result r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(Main.OK);
            assertThat(r.out()).as(String.join(" ", args)).startsWith("Usage: mancom");
        }
    }

    @Test
    void helpCommandPrintsTheUsageOfMancomOrOfACommand() {
        Cli.Result top = Cli.run("help");
        assertThat(top.exitCode()).as(top.err()).isEqualTo(Main.OK);
        assertThat(top.out()).startsWith("Usage: mancom").contains("serve").contains("help");

        Cli.Result serve = Cli.run("help", "serve");
        assertThat(serve.exitCode()).as(serve.err()).isEqualTo(Main.OK);
        assertThat(serve.out()).startsWith("Usage: mancom serve").contains("--config");

        Cli.Result nosuch = Cli.run("help", "nosuch");
        assertThat(nosuch.exitCode()).isEqualTo(Main.FAILURE);
        assertThat(nosuch.err()).contains("nosuch");
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
}
