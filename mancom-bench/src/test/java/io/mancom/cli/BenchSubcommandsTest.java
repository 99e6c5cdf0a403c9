package io.mancom.cli;

import io.mancom.testkit.PtyPair;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shape of {@code bench serial}, {@code bench mux}, {@code bench mux-idle}, {@code bench status} and
 * {@code bench daemon}, with tiny parameters (not figures).
 * The bench command is found the way the CLI finds it in the mancom-bench jar: by ServiceLoader.
 */
class BenchSubcommandsTest {
    private static final String NUMBER = "\\d+\\.\\d+";

    @Test
    void benchMuxPrintsARowPerRunAndStreamCountAndASummary() {
        Cli.Result r = Cli.run("bench", "mux", "--streams", "1,3", "--runs", "1", "--seconds", "1", "--warmup", "0.2",
                "--size", "16384");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        List<String> lines = r.out().lines().toList();
        int header = indexOf(lines, "run");
        assertThat(lines.get(header).trim().split("\\s+"))
                .containsExactly("run", "streams", "tcp", "MB/s", "mux", "MB/s", "mux/tcp");
        for (int i = 1; i <= 2; i++) {
            String[] row = lines.get(header + i).trim().split("\\s+");
            assertThat(row).hasSize(5);
            assertThat(row[0]).isEqualTo("1");
            assertThat(row[1]).isEqualTo(i == 1 ? "1" : "3");
            assertThat(row[2]).matches(NUMBER);
            assertThat(row[3]).matches(NUMBER);
            assertThat(row[4]).matches(NUMBER);
        }
        int summary = indexOf(lines, "streams");
        assertThat(lines.get(summary + 1).trim()).matches("1\\s+" + NUMBER + "\\s+" + NUMBER + "\\s+" + NUMBER + "\\s+0\\.70\\s+(met|MISSED)");
        assertThat(lines.get(summary + 2).trim()).matches("3\\s+" + NUMBER + "\\s+" + NUMBER + "\\s+" + NUMBER + "\\s+0\\.80\\s+(met|MISSED)");
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .matches("summary \\(median of 1 run\\): 1 stream " + NUMBER + ", 3 streams " + NUMBER + " of one ManCom TCP connection"));
    }

    @Test
    void benchMuxIdlePrintsBytesPerStreamForEachCase() {
        Cli.Result r = Cli.run("bench", "mux-idle", "--streams", "200", "--histogram", "3");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        List<String> lines = r.out().lines().toList();
        for (String c : List.of("opener", "acceptor", "pair")) {
            assertThat(lines).as(c).anySatisfy(l -> assertThat(l.trim())
                    .matches(c + "\\s+200\\s+[\\d.]+ [KM]iB\\s+[\\d.]+ [KM]iB\\s+-?\\d+\\s+\\d KiB.*(met|MISSED)"));
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith(c + ": the classes that grew most per stream"));
        }
    }

    @Test
    void benchStatusTimesTheControlSocketWithOpenStreams() {
        Cli.Result r = Cli.run("bench", "status", "--streams", "50", "--requests", "2");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        List<String> lines = r.out().lines().toList();
        assertThat(lines).anySatisfy(l -> assertThat(l).isEqualTo("server: 50 streams open"));
        for (String route : List.of("/status", "/metrics")) {
            assertThat(lines).anySatisfy(l -> assertThat(l)
                    .matches("GET " + route + " +median \\d+ ms, max \\d+ ms \\(.+, 2 requests\\)"));
        }
    }

    @Test
    void benchSerialComparesBothDirectionsWithPlainStreams() {
        if (!PtyPair.available()) {
            // CI installs socat (.ci/run): there, a missing socat is a broken machine, not a skip.
            assertThat(System.getenv("CI")).as("socat is not installed (apt-get install socat)").isNotEqualTo("true");
            assumeTrue(false, "socat is not installed (apt-get install socat)");
        }
        Cli.Result r = Cli.run("bench", "serial", "--runs", "1", "--size", "262144", "--chunk", "16384");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        List<String> lines = r.out().lines().toList();
        int header = indexOf(lines, "run");
        assertThat(lines.get(header).trim().split("\\s{3,}"))
                .containsExactly("run", "plain b->a MB/s", "rx MB/s", "plain a->b MB/s", "tx MB/s", "rx/plain", "tx/plain");
        String[] run = lines.get(header + 1).trim().split("\\s+");
        assertThat(run).hasSize(7);
        for (int i = 1; i < run.length; i++) {
            assertThat(run[i]).matches(NUMBER);
        }
        assertThat(lines.get(header + 2).trim()).startsWith("median");
        assertThat(lines).anySatisfy(l -> assertThat(l)
                .matches("summary: ManCom receiving " + NUMBER + " of plain streams, sending " + NUMBER + " .*target 0\\.90\\)"));
    }

    @Test
    void benchSerialOverAPacedLineComparesManComWithZmodem() {
        boolean zmodem = new java.io.File("/usr/bin/sz").canExecute() && new java.io.File("/usr/bin/rz").canExecute();
        if (!PtyPair.available() || !zmodem) {
            // CI installs socat and lrzsz (.ci/run): there, a missing tool is a broken machine, not a skip.
            assertThat(System.getenv("CI")).as("socat or lrzsz is not installed").isNotEqualTo("true");
            assumeTrue(false, "socat or lrzsz is not installed (apt-get install socat lrzsz)");
        }
        Cli.Result r = Cli.run("bench", "serial", "--baud", "460800", "--runs", "1", "--size", "8192");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        List<String> lines = r.out().lines().toList();
        int header = indexOf(lines, "run");
        assertThat(lines.get(header).trim().split("\\s{3,}"))
                .containsExactly("run", "ManCom s", "ManCom goodput", "ZMODEM s", "ZMODEM goodput", "notes");
        String[] run = lines.get(header + 1).trim().split("\\s+");
        assertThat(run).hasSize(5);
        for (int i = 1; i < run.length; i++) {
            assertThat(run[i]).matches(NUMBER);
        }
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("summary: at 460800 baud, BER 0\\.0: ManCom \\(no link layer\\) "
                + NUMBER + " of line rate, ZMODEM " + NUMBER + " .*"));
        // --reliable: both ManCom ends over the reliable link layer, every transfer byte-exact at BER 1e-4.
        Cli.Result reliable = Cli.run("bench", "serial", "--baud", "460800", "--runs", "1", "--size", "8192",
                "--ber", "1e-4", "--reliable");
        assertThat(reliable.exitCode()).as(reliable.err()).isEqualTo(Main.OK);
        assertThat(reliable.out().lines()).anySatisfy(l -> assertThat(l).matches("summary: at 460800 baud, BER 1\\.0E-4:"
                + " ManCom \\(link = reliable\\) " + NUMBER + " of line rate, ZMODEM .*"));
    }

    @Test
    void benchDaemonComparesTcpAndAPtyThroughTheDaemonWithDirect() {
        if (!PtyPair.available()) {
            assertThat(System.getenv("CI")).as("socat is not installed (apt-get install socat)").isNotEqualTo("true");
            assumeTrue(false, "socat is not installed (apt-get install socat)");
        }
        Cli.Result r = Cli.run("bench", "daemon", "--runs", "1", "--seconds", "0.3", "--warmup", "0.1",
                "--pty-size", "262144", "--pty-chunk", "16384");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        List<String> lines = r.out().lines().toList();
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("summary: through the daemon, throughput " + NUMBER
                + " of direct \\(target 0\\.95\\), accept rate " + NUMBER + " .*"));
        int header = indexOf(lines.subList(indexOf(lines, "pty:"), lines.size()), "run") + indexOf(lines, "pty:");
        assertThat(lines.get(header).trim().split("\\s{3,}")).containsExactly("run", "direct rx MB/s",
                "daemon rx MB/s", "direct tx MB/s", "daemon tx MB/s", "rx daemon/direct", "tx daemon/direct");
        String[] run = lines.get(header + 1).trim().split("\\s+");
        assertThat(run).hasSize(7);
        for (int i = 1; i < run.length; i++) {
            assertThat(run[i]).matches(NUMBER);
        }
        assertThat(lines.get(header + 2).trim()).startsWith("median");
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("summary: a pty through the daemon, receiving "
                + NUMBER + " of direct, sending " + NUMBER + " .*target 0\\.90\\)"));
        for (String way : List.of("rx", "tx")) { // each direction's CPU per MiB, or why it has none
            assertThat(lines).anySatisfy(l -> assertThat(l).matches("cpu " + way + ": (" + NUMBER + " ms per MiB direct, "
                    + NUMBER + " through the daemon .*CPU-bound ceiling of daemon/direct " + NUMBER
                    + "|not measured \\(a transfer shorter than .*\\))"));
        }
    }

    @Test
    void sharedOptionsKeepEachCommandsDefaults() {
        assertThat(help("bench", "mux")).contains("--runs=R Runs; each measures every case once (default 3).")
                .contains("(default 0.5)").contains("--seconds=S Measured seconds per measurement (default 2.0).");
        assertThat(help("bench", "serial")).contains("--runs=R Runs; each measures every case once (default 5).")
                .contains("--io-threads=N");
        assertThat(help("bench", "mux-idle")).contains("--io-threads=N").doesNotContain("--runs");
    }

    /** The command's help on one line (picocli wraps descriptions at 80 columns). */
    private static String help(String... command) {
        List<String> args = new java.util.ArrayList<>(List.of(command));
        args.add("--help");
        return Cli.run(args.toArray(String[]::new)).out().replaceAll("\\s+", " ");
    }

    @Test
    void benchSubcommandsRejectBadParametersOnOneLine() {
        for (String[] args : List.of(new String[] {"bench", "mux", "--streams", "0"},
                new String[] {"bench", "mux-idle", "--cases", "nosuch"},
                new String[] {"bench", "serial", "--size", "0"},
                new String[] {"bench", "serial", "--runs", "0"},
                new String[] {"bench", "daemon", "--pty-chunk", "0"},
                new String[] {"bench", "mux", "--warmup", "-1"},
                new String[] {"bench", "mux-idle", "--io-threads", "0"})) {
            Cli.Result r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(Main.FAILURE);
            assertThat(r.err().lines()).as(String.join(" ", args)).hasSize(1);
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
