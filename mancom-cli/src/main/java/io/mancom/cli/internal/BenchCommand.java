package io.mancom.cli.internal;

import io.mancom.cli.bench.TcpBenchCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code mancom bench}: holds one benchmark per transport (only TCP so far). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: ManCom against plain Netty, in one process.",
        subcommands = TcpBenchCommand.class)
final class BenchCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing benchmark: mancom bench tcp");
    }
}
