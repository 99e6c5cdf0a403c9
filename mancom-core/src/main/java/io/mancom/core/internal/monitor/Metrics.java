package io.mancom.core.internal.monitor;

import io.mancom.ManComException.Reason;
import io.mancom.TransportType;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The runtime's figures in the Prometheus text format, through the Prometheus Java client: a
 * {@link MultiCollector} turns the service totals into immutable snapshots at scrape time, so
 * nothing is kept between scrapes. Labels are per service ({@code service}, {@code transport},
 * and {@code reason} for errors), never per connection, so the number of series stays that of
 * the services. Names are given without {@code _total}; the writer adds it to counters.
 *
 * <pre>
 * mancom_connections_open{service,transport}            gauge
 * mancom_connections_accepted_total{service,transport}  counter
 * mancom_received_bytes_total{service,transport}        counter, bytes
 * mancom_sent_bytes_total{service,transport}            counter, bytes
 * mancom_errors_total{service,reason}                   counter
 * mancom_refused_total{service,cause}                   counter (connections turned away: limits, allow-lists)
 * mancom_reconnects_total{service,transport}            counter
 * mancom_mux_streams_open{service,transport}            gauge
 * mancom_write_queue_bytes{service,transport}           gauge, bytes
 * mancom_sniff_refused_total{endpoint,reason}           counter (ports shared by match)
 * </pre>
 *
 * Thread-safe; a scrape may run on any thread.
 */
public final class Metrics implements MultiCollector {
    /** The HTTP content type of {@link #scrape()}. */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final Monitor monitor;
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    public Metrics(Monitor monitor) {
        this.monitor = monitor;
        registry.register(this);
    }

    /** The exposition text, as of now. */
    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, ServiceStats.Totals> totals = monitor.totals();
        Map<String, TransportType> transports = monitor.transports();
        return MetricSnapshots.of(
                gauge("mancom_connections_open", "Open connections (TCP connections, devices, mux streams)", null,
                        totals, transports, t -> t.open()),
                counter("mancom_connections_accepted", "Connections and mux streams a peer opened to the service",
                        null, totals, transports, t -> t.accepted()),
                counter("mancom_received_bytes", "Bytes received by the service's connections", Unit.BYTES,
                        totals, transports, t -> t.bytesIn()),
                counter("mancom_sent_bytes", "Bytes sent by the service's connections (writes completed)", Unit.BYTES,
                        totals, transports, t -> t.bytesOut()),
                errors(totals),
                refused(monitor.refusals()),
                counter("mancom_reconnects", "Times the service's device was lost and reopened", null,
                        totals, transports, t -> t.reconnects()),
                gauge("mancom_mux_streams_open", "Open mux streams of the service", null,
                        totals, transports, t -> t.streams()),
                gauge("mancom_write_queue_bytes", "Bytes written but not sent yet, over the service's connections",
                        Unit.BYTES, totals, transports, t -> t.queued()),
                monitor.ports().snapshot());
    }

    private static Labels labels(String service, TransportType t) {
        return Labels.of("service", service, "transport", t.scheme());
    }

    private static CounterSnapshot counter(String name, String help, Unit unit, Map<String, ServiceStats.Totals> totals,
                                           Map<String, TransportType> transports,
                                           ToDoubleFunction<ServiceStats.Totals> value) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name(name).help(help);
        if (unit != null) {
            b.unit(unit);
        }
        totals.forEach((service, t) -> b.dataPoint(CounterDataPointSnapshot.builder()
                .labels(labels(service, transports.get(service))).value(value.applyAsDouble(t)).build()));
        return b.build();
    }

    private static GaugeSnapshot gauge(String name, String help, Unit unit, Map<String, ServiceStats.Totals> totals,
                                       Map<String, TransportType> transports,
                                       ToDoubleFunction<ServiceStats.Totals> value) {
        GaugeSnapshot.Builder b = GaugeSnapshot.builder().name(name).help(help);
        if (unit != null) {
            b.unit(unit);
        }
        totals.forEach((service, t) -> b.dataPoint(GaugeDataPointSnapshot.builder()
                .labels(labels(service, transports.get(service))).value(value.applyAsDouble(t)).build()));
        return b.build();
    }

    private static CounterSnapshot refused(Map<String, Map<String, Long>> refused) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name("mancom_refused")
                .help("Connections and mux streams turned away before they became connections, by cause "
                        + "(max-connections, max-connections-per-peer, denied, no-descriptors, open-timeout)");
        refused.forEach((service, causes) -> causes.forEach((cause, n) -> b.dataPoint(CounterDataPointSnapshot
                .builder().labels(Labels.of("service", service, "cause", cause)).value(n).build())));
        return b.build();
    }

    private static CounterSnapshot errors(Map<String, ServiceStats.Totals> totals) {
        CounterSnapshot.Builder b = CounterSnapshot.builder().name("mancom_errors")
                .help("Failures by reason: connections that closed with a failure, and failures that closed nothing");
        totals.forEach((service, t) -> {
            for (Map.Entry<Reason, Long> e : t.errors().entrySet()) {
                b.dataPoint(CounterDataPointSnapshot.builder()
                        .labels(Labels.of("service", service, "reason", e.getKey().name().toLowerCase(Locale.ROOT)))
                        .value(e.getValue()).build());
            }
        });
        return b.build();
    }
}
