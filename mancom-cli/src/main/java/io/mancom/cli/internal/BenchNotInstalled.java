package io.mancom.cli.internal;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code mancom bench} when the benchmarks are not on the class path: they live in the mancom-bench
 * jar, out of the production CLI. Says how to get them instead of failing on an unknown command.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmarks (not in this jar: they are in mancom-bench).",
                "",
                "In a source checkout, bin/mancom bench ... builds and runs mancom-bench/target/mancom-bench.jar;"
                        + " or run java -jar mancom-bench.jar bench ... yourself."})
public final class BenchNotInstalled implements Callable<Integer> {
    @Unmatched
    private List<String> arguments;

    @Override
    public Integer call() {
        throw new IllegalStateException("the benchmarks are not part of this jar: run 'bin/mancom bench ...' in a"
                + " source checkout (it builds mancom-bench/target/mancom-bench.jar) or 'java -jar mancom-bench.jar bench ...'");
    }
}
