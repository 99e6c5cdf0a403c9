package io.mancom.daemon.internal;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The daemon's figures in the Prometheus text format, per system service (labels {@code service}
 * and, for drops, {@code reason}; never per connection):
 *
 * <pre>
 * mancom_daemon_processes_attached{service}                  gauge
 * mancom_daemon_connections_held{service}                    gauge
 * mancom_daemon_connections_handed_over_total{service}       counter
 * mancom_daemon_connections_dropped_total{service,reason}    counter (hold_timeout, hold_connections, ...)
 * </pre>
 *
 * Snapshots are taken from the owners at scrape time. Thread-safe.
 */
final class DaemonMetrics implements MultiCollector {
    static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final Daemon daemon;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    DaemonMetrics(Daemon daemon) {
        this.daemon = daemon;
        registry.register(this);
    }

    String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(2048);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Override
    public MetricSnapshots collect() {
        GaugeSnapshot.Builder attached = GaugeSnapshot.builder().name("mancom_daemon_processes_attached")
                .help("Processes attached to the service (attach connections open)");
        GaugeSnapshot.Builder held = GaugeSnapshot.builder().name("mancom_daemon_connections_held")
                .help("Connections the daemon holds for the service, waiting for a process");
        CounterSnapshot.Builder handed = CounterSnapshot.builder().name("mancom_daemon_connections_handed_over")
                .help("Connections handed to a process and acknowledged by it");
        CounterSnapshot.Builder dropped = CounterSnapshot.builder().name("mancom_daemon_connections_dropped")
                .help("Connections closed without a process taking them, by the bound that closed them");
        for (String service : daemon.services()) {
            Owner o = daemon.owner(service);
            if (o == null) {
                continue; // removed by a reload meanwhile
            }
            Owner.OwnerStatus s = o.status(service);
            Labels l = Labels.of("service", service);
            attached.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(s.attached()).build());
            held.dataPoint(GaugeDataPointSnapshot.builder().labels(l).value(s.held()).build());
            handed.dataPoint(CounterDataPointSnapshot.builder().labels(l).value(s.handedOver()).build());
            for (Map.Entry<String, Long> e : o.dropped(service).entrySet()) {
                dropped.dataPoint(CounterDataPointSnapshot.builder()
                        .labels(Labels.of("service", service, "reason", e.getKey())).value(e.getValue()).build());
            }
        }
        return MetricSnapshots.of(attached.build(), held.build(), handed.build(), dropped.build());
    }
}
