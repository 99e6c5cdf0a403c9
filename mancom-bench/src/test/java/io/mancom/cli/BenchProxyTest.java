package io.mancom.cli;

import io.mancom.testkit.Nginx;
import io.mancom.testkit.Tools;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The shape of {@code bench proxy}, with tiny parameters (not figures); needs nginx and wrk. */
class BenchProxyTest {
    @Test
    void benchProxyPrintsARowPerTargetAndTheRatios() {
        Nginx.require();
        if (!Tools.runs("wrk", "--version")) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("wrk is not installed; CI must have it");
            }
            org.junit.jupiter.api.Assumptions.abort("wrk is not installed (apt-get install wrk): test skipped");
        }
        Cli.Result r = Cli.run("bench", "proxy", "--connections", "4", "--seconds", "1", "--warmup", "0", "--runs", "1");

        assertThat(r.exitCode()).as(r.err()).isEqualTo(Main.OK);
        List<String> lines = r.out().lines().toList();
        assertThat(lines).anyMatch(l -> l.matches("4\\s+direct\\s+\\d+.*"))
                .anyMatch(l -> l.matches("4\\s+mancom-h2c\\s+\\d+\\s+[0-9.]+\\s+0\\s.*"))
                .anyMatch(l -> l.matches("4\\s+nginx-proxy\\s+\\d+.*"))
                .anyMatch(l -> l.startsWith("4      mancom/direct: rps "))
                .anyMatch(l -> l.matches("4\\s+cpu per request, all processes: direct [0-9.]+ us, mancom path [0-9.]+ us;"
                        + " CPU-bound rps ceiling [0-9.]+ of direct"))
                .anyMatch(l -> l.contains("upstream-connects=1 ") && l.contains(" 502=0 "));
    }
}
