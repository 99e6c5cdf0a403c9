package io.mancom.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Grafana dashboard in docs/grafana queries exactly the metric families ManCom exposes (the
 * names of SYSTEM.md and docs/monitoring.md), so a renamed metric cannot leave it blank unnoticed.
 * StatusSystemTest checks that each of them is in a real scrape.
 */
class GrafanaDashboardTest {
    /** The families of SYSTEM.md; counters with the {@code _total} a scrape shows. */
    static final Set<String> FAMILIES = Set.of("mancom_connections_open", "mancom_connections_accepted_total",
            "mancom_received_bytes_total", "mancom_sent_bytes_total", "mancom_errors_total", "mancom_reconnects_total",
            "mancom_mux_streams_open", "mancom_write_queue_bytes");

    static Path dashboard() {
        return Path.of("..", "docs", "grafana", "mancom-dashboard.json");
    }

    /** Every metric name in the dashboard's queries. */
    static Set<String> queried() throws IOException {
        JsonNode d = new ObjectMapper().readTree(dashboard().toFile());
        Set<String> names = new TreeSet<>();
        Pattern name = Pattern.compile("\\bmancom_[a-z_]+");
        for (JsonNode panel : d.get("panels")) {
            for (JsonNode target : panel.path("targets")) {
                Matcher m = name.matcher(target.get("expr").asText());
                while (m.find()) {
                    names.add(m.group());
                }
            }
        }
        return names;
    }

    @Test
    void theDashboardQueriesExactlyTheExposedFamilies() throws IOException {
        assertThat(queried()).containsExactlyInAnyOrderElementsOf(FAMILIES);
        JsonNode d = new ObjectMapper().readTree(dashboard().toFile());
        assertThat(d.get("uid").asText()).isEqualTo("mancom");
        // Every query filters by the dashboard's instance and service variables.
        for (JsonNode panel : d.get("panels")) {
            for (JsonNode target : panel.get("targets")) {
                assertThat(target.get("expr").asText()).as(panel.get("title").asText())
                        .contains("instance=~\"$instance\"", "service=~\"$service\"");
            }
        }
    }
}
