package io.mancom.cli.bench;

import io.mancom.cli.ManComSubcommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * {@code mancom bench}: the benchmarks (TCP echo, serial line, mux throughput, mux idle streams,
 * the control socket's answer time, TCP and a pty through the system daemon, the HTTP proxy against nginx).
 * Found by {@code io.mancom.cli.Main} as a {@link ManComSubcommand} when this jar (mancom-bench) is
 * on the class path; the production CLI jar does not carry the benchmarks.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: ManCom against plain Netty, in one process.",
        subcommands = {TcpBenchCommand.class, SerialBenchCommand.class, MuxBenchCommand.class,
                MuxIdleBenchCommand.class, StatusBenchCommand.class, DaemonBenchCommand.class, SniffBenchCommand.class,
                FloodBenchCommand.class, ProxyBenchCommand.class,
                ReliableLinkBenchCommand.class})
public final class BenchCommand implements Callable<Integer>, ManComSubcommand {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
                "missing benchmark: mancom bench tcp|serial|mux|mux-idle|status|daemon|sniff|flood|proxy|reliable-link");
    }
}
