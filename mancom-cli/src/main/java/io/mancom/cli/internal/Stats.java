package io.mancom.cli.internal;

import java.util.Arrays;
import java.util.Locale;

/** Small numeric helpers for reports. Stateless. */
public final class Stats {
    private Stats() {
    }

    /** The median of {@code values} (the mean of the middle two for an even count); NaN if empty. */
    public static double median(double[] values) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /** The median of {@code values}; 0 if empty. */
    public static long median(long[] values) {
        if (values.length == 0) {
            return 0;
        }
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /** Megabytes (10<sup>6</sup> bytes) per second. */
    public static double mbPerSecond(long bytes, long nanos) {
        return nanos <= 0 ? 0 : bytes * 1e3 / nanos;
    }

    /** A byte count for people: {@code 16 B}, {@code 1 KiB}, {@code 64 KiB}, {@code 1.5 MiB}. */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return n % 1024 == 0 ? n / 1024 + " KiB" : String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        return n % (1024 * 1024) == 0 ? n / (1024 * 1024) + " MiB" : String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0);
    }

    /** A duration in nanoseconds for people: {@code 38 us}, {@code 1.2 ms}, {@code 2.5 s}. */
    public static String nanos(long ns) {
        if (ns < 1_000_000L) {
            return Math.round(ns / 1e3) + " us";
        }
        if (ns < 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1f ms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.1f s", ns / 1e9);
    }
}
