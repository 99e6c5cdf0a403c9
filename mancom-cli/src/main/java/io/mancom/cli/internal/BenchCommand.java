package io.mancom.cli.internal;

import io.mancom.cli.bench.MuxBenchCommand;
import io.mancom.cli.bench.MuxIdleBenchCommand;
import io.mancom.cli.bench.SerialBenchCommand;
import io.mancom.cli.bench.TcpBenchCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code mancom bench}: the benchmarks (TCP echo, serial line, mux throughput, mux idle streams). */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: ManCom against plain Netty, in one process.",
        subcommands = {TcpBenchCommand.class, SerialBenchCommand.class, MuxBenchCommand.class,
                MuxIdleBenchCommand.class})
final class BenchCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing benchmark: mancom bench tcp|serial|mux|mux-idle");
    }
}
