package io.mancom.cli.bench;

import picocli.CommandLine.Option;

import java.util.List;

/**
 * The options several benchmarks share, as picocli mixins: a command declares
 * {@code @Mixin BenchOptions.Threads threads = new BenchOptions.Threads();} and calls
 * {@code validate} with its list of problems. A mixin made with a default in its constructor
 * ({@code new Runs(3)}) shows that default in the command's help: picocli takes the field's
 * initial value as the option's default. Not thread-safe; one command line uses an instance.
 */
final class BenchOptions {
    private BenchOptions() {
    }

    /** {@code --io-threads N}: event-loop threads of each runtime (default half the CPUs, at least 1). */
    static final class Threads {
        @Option(names = "--io-threads", paramLabel = "N",
                description = "Event-loop threads of each runtime (default: half the CPUs, at least 1).")
        private Integer ioThreads;

        /** The threads to use: the option, or half the CPUs (at least 1). */
        int threads() {
            return ioThreads != null ? ioThreads : BenchKit.defaultThreads();
        }

        void validate(List<String> problems) {
            if (ioThreads != null && (ioThreads < 1 || ioThreads > 256)) {
                problems.add("--io-threads must be from 1 to 256: " + ioThreads);
            }
        }
    }

    /** {@code --runs R}: how many times every case is measured. */
    static final class Runs {
        @Option(names = "--runs", paramLabel = "R",
                description = "Runs; each measures every case once (default ${DEFAULT-VALUE}).")
        private int runs;

        Runs(int defaultRuns) {
            this.runs = defaultRuns;
        }

        int runs() {
            return runs;
        }

        void validate(List<String> problems) {
            if (runs < 1 || runs > 1000) {
                problems.add("--runs must be from 1 to 1000: " + runs);
            }
        }
    }

    /** {@code --seconds S} and {@code --warmup S}: how long each measurement and its warm-up last. */
    static final class Timing {
        @Option(names = "--seconds", paramLabel = "S",
                description = "Measured seconds per measurement (default ${DEFAULT-VALUE}).")
        private double seconds;

        @Option(names = "--warmup", paramLabel = "S",
                description = "Seconds of load before each measurement starts (default ${DEFAULT-VALUE}).")
        private double warmup;

        Timing(double defaultSeconds, double defaultWarmup) {
            this.seconds = defaultSeconds;
            this.warmup = defaultWarmup;
        }

        double seconds() {
            return seconds;
        }

        double warmup() {
            return warmup;
        }

        long measureNanos() {
            return (long) (seconds * 1e9);
        }

        long warmupNanos() {
            return (long) (warmup * 1e9);
        }

        void validate(List<String> problems) {
            if (!(seconds > 0) || seconds > 3600) {
                problems.add("--seconds must be above 0 and at most 3600: " + seconds);
            }
            if (!(warmup >= 0) || warmup > 3600) {
                problems.add("--warmup must be from 0 to 3600: " + warmup);
            }
        }
    }
}
