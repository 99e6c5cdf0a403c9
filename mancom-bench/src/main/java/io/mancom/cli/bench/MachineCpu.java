package io.mancom.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The whole machine's CPU time between two readings of {@code /proc/stat}, to tell a path that is
 * CPU-bound from one that waits. Machine-wide on purpose: a pty's bytes are also moved by socat
 * and by the kernel's tty workers (kworker threads), which no process's own figures include.
 *
 * <p>Busy time counts user, system, interrupt and steal time but not {@code nice} time: work
 * deliberately started at a lower priority (a {@code nice -n 19} fuzzer, a build) is left out, so
 * the figure is the benchmark's own on an otherwise quiet machine. What the kernel does for such a
 * process still counts as system time, so the figure is only as clean as the machine is quiet.
 *
 * <p>Immutable; {@link #now()} reads the file. Off Linux (no {@code /proc/stat}) every reading is
 * zero and {@link #available()} says so.
 */
record MachineCpu(long busyTicks, long allTicks) {
    /** Linux's USER_HZ: /proc/stat counts in hundredths of a second on every architecture we run on. */
    private static final double SECONDS_PER_TICK = 0.01;

    static MachineCpu now() {
        try {
            String first = Files.readString(Path.of("/proc/stat")).lines().findFirst().orElse("");
            String[] f = first.trim().split("\\s+");
            // cpu user nice system idle iowait irq softirq steal ...
            long user = Long.parseLong(f[1]);
            long nice = Long.parseLong(f[2]);
            long system = Long.parseLong(f[3]);
            long idle = Long.parseLong(f[4]);
            long iowait = Long.parseLong(f[5]);
            long irq = Long.parseLong(f[6]);
            long softirq = Long.parseLong(f[7]);
            long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
            long busy = user + system + irq + softirq + steal;
            return new MachineCpu(busy, busy + nice + idle + iowait);
        } catch (IOException | RuntimeException e) {
            return new MachineCpu(0, 0);
        }
    }

    boolean available() {
        return allTicks > 0;
    }

    /** Busy CPU seconds from {@code before} to this reading. */
    double busySecondsSince(MachineCpu before) {
        return (busyTicks - before.busyTicks) * SECONDS_PER_TICK;
    }

    /**
     * How many CPUs were busy on average from {@code before} to this reading (0 to the number of
     * CPUs): near the number of CPUs, the path was CPU-bound; well below it, it waited.
     */
    double busyCpusSince(MachineCpu before, int cpus) {
        long all = allTicks - before.allTicks;
        return all <= 0 ? 0 : cpus * (double) (busyTicks - before.busyTicks) / all;
    }
}
