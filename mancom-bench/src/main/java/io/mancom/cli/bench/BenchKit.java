package io.mancom.cli.bench;

import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.TcpAddress;
import io.mancom.cli.internal.Table;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/** Helpers shared by the serial and mux benchmarks. Stateless. */
final class BenchKit {
    private BenchKit() {
    }

    /**
     * A runtime configured by {@code hocon} alone (plus the defaults in the jars): the machine's
     * /etc/mancom and user files are not read, so the figures are those of ManCom's defaults on
     * every machine. {@code -Dmancom.*} properties still apply, for experiments.
     */
    static ManCom runtime(String hocon, int ioThreads) {
        try {
            Path conf = Files.createTempFile("mancom-bench", ".conf");
            try {
                Files.writeString(conf, hocon);
                return ManCom.builder().configFile(conf).ioThreads(ioThreads).start();
            } finally {
                Files.deleteIfExists(conf);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the benchmark's config file: " + e.getMessage(), e);
        }
    }

    /** The loopback endpoint a service of {@code mancom} is bound to. */
    static EndPoint bound(ManCom mancom, String service) {
        EndPoint at = mancom.boundEndPoint(service).orElseThrow(
                () -> new IllegalStateException("service '" + service + "' is not bound after awaitReady"));
        if (at.address() instanceof TcpAddress tcp && ("0.0.0.0".equals(tcp.host()) || "::".equals(tcp.host()))) {
            return EndPoint.parse("tcp://127.0.0.1:" + tcp.port());
        }
        return at;
    }

    static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    static void sleepNanos(long nanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(nanos);
    }

    /** The end of a measured interval: the counter's value then, and when ({@link System#nanoTime()}). */
    record IntervalEnd(long count, long nanoTime) {
    }

    /**
     * Ends an interval that began at {@code t0} with {@code counter} at {@code c0}. When nothing
     * arrived in it, the interval goes on until something does: on an overloaded machine a short
     * interval can pass while the threads that move the bytes wait for a CPU, which is no stall
     * (the figure is then small, not zero). A transfer that moves nothing for {@code stallLimit}
     * after the interval is stalled: an IOException "{@code what} nothing in N ms".
     */
    static IntervalEnd endInterval(LongSupplier counter, long c0, long t0, Duration stallLimit, String what)
            throws IOException, InterruptedException {
        long c1 = counter.getAsLong();
        long t1 = System.nanoTime();
        long deadline = t1 + stallLimit.toNanos();
        while (c1 == c0) {
            if (t1 - deadline > 0) {
                throw new IOException(what + " nothing in " + (t1 - t0) / 1_000_000 + " ms");
            }
            TimeUnit.MILLISECONDS.sleep(1);
            c1 = counter.getAsLong();
            t1 = System.nanoTime();
        }
        return new IntervalEnd(c1, t1);
    }

    /** Prints the lines of {@code table} not printed yet. */
    static void printNewLines(PrintWriter out, Table table, List<String> printed) {
        List<String> lines = table.lines();
        for (int i = printed.size(); i < lines.size(); i++) {
            out.println(lines.get(i));
            printed.add(lines.get(i));
        }
        out.flush();
    }

    static String mb(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String ratio(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String plain(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /**
     * The heap in use after full collections: collects until two readings agree within 1 %
     * (at most 8 rounds), so objects waiting for finalisation or reference processing are gone.
     */
    static long usedHeapAfterGc() throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long last = -1;
        for (int round = 0; round < 8; round++) {
            System.gc();
            Thread.sleep(50); // let reference handlers and cleaners run between collections
            long used = memory.getHeapMemoryUsage().getUsed();
            if (last >= 0 && Math.abs(used - last) <= last / 100) {
                return Math.min(used, last);
            }
            last = used;
        }
        return last;
    }

    static String javaAndCpus() {
        return Runtime.getRuntime().availableProcessors() + " CPUs; Java " + Runtime.version();
    }
}
