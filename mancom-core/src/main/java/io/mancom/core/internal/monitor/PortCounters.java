package io.mancom.core.internal.monitor;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Connections that a port shared by {@code match} closed without handing them to a service, by
 * port and reason ({@code no-match}, {@code too-many-bytes}, {@code timeout}, {@code silent},
 * {@code closed}, {@code not-served}): they belong to no service, so they are counted apart, as
 * {@code mancom_sniff_refused_total{endpoint,reason}}. Thread-safe; counting is one map lookup and
 * one {@link LongAdder} increment.
 */
public final class PortCounters {
    private final Map<String, Map<String, LongAdder>> refused = new ConcurrentHashMap<>();

    /** Counts one connection {@code endpoint} refused for {@code reason}. Any thread. */
    public void refused(String endpoint, String reason) {
        refused.computeIfAbsent(endpoint, e -> new ConcurrentHashMap<>())
                .computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    /** How many {@code endpoint} refused for {@code reason} so far. */
    public long refusedCount(String endpoint, String reason) {
        Map<String, LongAdder> m = refused.get(endpoint);
        LongAdder n = m == null ? null : m.get(reason);
        return n == null ? 0 : n.sum();
    }

    CounterSnapshot snapshot() {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name("mancom_sniff_refused")
                .help("Connections a port shared by match closed without a service: no rule matched, a sniff bound"
                        + " was reached, or the service matched is not served");
        new TreeMap<>(refused).forEach((endpoint, reasons) -> new TreeMap<>(reasons).forEach((reason, n) ->
                b.dataPoint(CounterDataPointSnapshot.builder().labels(Labels.of("endpoint", endpoint, "reason", reason))
                        .value(n.sum()).build())));
        return b.build();
    }
}
