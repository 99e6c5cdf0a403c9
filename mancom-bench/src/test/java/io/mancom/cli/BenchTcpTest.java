package io.mancom.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code bench tcp}: the table and ratios (not figures), its checks, and help for every benchmark. */
class BenchTcpTest {
    private static final Pattern NUMBER = Pattern.compile("\\d+\\.\\d+");

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
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("monitoring: callback API \\d+\\.\\d MB/s with counters,"
                + " \\d+\\.\\d MB/s without, on/off \\d+\\.\\d\\d \\(median of 1 run; per run: \\d+\\.\\d\\d\\)"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("monitoring cpu: server event loops [1-9]\\d* us per MB echoed"
                + " with counters, [1-9]\\d* us without, off/on \\d+\\.\\d\\d \\(median of 1 run; per run: \\d+\\.\\d\\d\\)"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("monitoring alloc: server event loops \\d+ bytes allocated per MB"
                + " echoed with counters, \\d+ without \\(median of 1 run\\)"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("plain sockets: \\d+\\.\\d MB/s, \\d+\\.\\d\\d of plain Netty;"
                + " blocking API \\d+\\.\\d\\d of plain sockets .*"));
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("server cpu: us per MB echoed, all the server's threads:"
                + " netty [1-9]\\d*, blocking [1-9]\\d*, plain sockets [1-9]\\d* .*"));
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
    void helpWorksOnEveryBenchmark() {
        for (String[] args : List.of(new String[] {"bench", "--help"}, new String[] {"bench", "tcp", "--help"},
                new String[] {"bench", "serial", "--help"}, new String[] {"bench", "mux", "--help"},
                new String[] {"bench", "mux-idle", "--help"}, new String[] {"help", "bench"})) {
            Cli.Result r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(Main.OK);
            assertThat(r.out()).as(String.join(" ", args)).startsWith("Usage: mancom bench");
        }
        assertThat(Cli.run("--help").out()).contains("Benchmarks: ManCom against plain Netty");
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
