package io.mancom.cli.internal.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The table's layout from hand-made snapshots, and the client's chunked decoding. */
class StatusTableTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode process(long pid, String name, String takenAt) {
        ObjectNode p = JSON.createObjectNode();
        p.put("pid", pid).put("processName", name).put("startedAt", "2026-01-01T00:00:00Z").put("takenAt", takenAt);
        p.putArray("services");
        p.putArray("channels");
        return p;
    }

    private static ObjectNode service(ObjectNode p, String name, String endpoint, String state, long in, long out) {
        ObjectNode s = ((ArrayNode) p.get("services")).addObject();
        s.put("name", name).put("transport", endpoint.substring(0, endpoint.indexOf(':')).toUpperCase())
                .put("endpoint", endpoint).putNull("bound").put("state", state).putNull("why")
                .put("connectionsOpen", 0).put("acceptedTotal", 0).put("bytesIn", in).put("bytesOut", out);
        s.putObject("errors");
        return s;
    }

    private static ObjectNode channel(ObjectNode p, long id, String kind, String service, String remote, long in, long out) {
        ObjectNode c = ((ArrayNode) p.get("channels")).addObject();
        c.put("id", id).put("kind", kind).put("service", service).put("remote", remote).put("state", "OPEN")
                .put("openedAt", "2026-01-01T00:00:00Z").put("bytesIn", in).put("bytesOut", out).putNull("closeCause");
        return c;
    }

    @Test
    void longNamesAndSerialEndpointsStillFitAHundredColumns() {
        ObjectNode p = process(4_194_303, "com.example.gateway.very.long.package.TelemetryGatewayMain",
                "2026-01-01T00:00:10Z");
        ObjectNode s = service(p, "telemetry-from-the-north-field", "serial:///dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0?baud=115200",
                "WAITING_FOR_DEVICE", 0, 0);
        s.put("why", "the device /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0 is not there");
        s.putObject("errors").put("LINK_FAILED", 3);
        ObjectNode m = service(p, "control", "tcp://0.0.0.0:7000", "LISTENING", 123_456_789, 5);
        m.put("bound", "tcp://0.0.0.0:7000");
        channel(p, 7, "MUX_SESSION", "control,telemetry-from-the-north-field", "tcp://[2001:db8::1]:50123", 10, 20);
        channel(p, 8, "MUX_STREAM", "control", "tcp://[2001:db8::1]:50123", 9_999, 10_000);

        List<String> lines = new StatusTable().lines(List.of(p), null, null, false);
        assertThat(lines).allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(StatusTable.WIDTH));
        // A main class as jps names it (cut: the text columns give way first, down to 8 columns).
        assertThat(lines.get(1)).startsWith("4194303  Telemet…  telemet…  serial").contains("waiting", "the devi");
        // The serial endpoint without its default options, cut to fit from the left (its end is its own).
        assertThat(lines.get(1)).contains("…5BI-if00-port0"); // baud 115200 is the default
        assertThat(lines.get(2)).containsSubsequence("control", "tcp", "0.0.0.0:7000", "listen", "118M", "5");
        assertThat(lines.get(3)).containsSubsequence("#8", "stream", "db8::1]:50123", "open", "9999", "9.8K");
        // The mux session carries two services: it comes last, under its process.
        assertThat(lines.get(4)).containsSubsequence("#7 con", "mux", "10", "20");
        // Rates: 10 s since the start, 123456794 bytes.
        assertThat(lines.get(2)).contains(StatusTable.bytes(12_345_679) + "/s");
    }

    @Test
    void errorsByReasonWhereThereIsRoom() {
        ObjectNode p = process(4242, "io.mancom.cli.Main", "2026-01-01T00:00:10Z");
        service(p, "sensor", "tcp://127.0.0.1:7001", "LISTENING", 0, 0).putObject("errors").put("LINK_FAILED", 3);
        assertThat(new StatusTable().lines(List.of(p), null, null, false).get(1))
                .startsWith("4242  Main ").endsWith("link_failed 3");
    }

    @Test
    void processNamesAreShort() {
        assertThat(StatusTable.processName("mancom-cli.jar")).isEqualTo("mancom-cli");
        assertThat(StatusTable.processName("io.mancom.cli.Main")).isEqualTo("Main");
        assertThat(StatusTable.processName("hello")).isEqualTo("hello");
        assertThat(StatusTable.processName("hello-1.0")).isEqualTo("hello-1.0");
    }

    @Test
    void watchRatesAreTheChangeSinceThePreviousSnapshot() {
        StatusTable t = new StatusTable();
        ObjectNode before = process(1, "a.jar", "2026-01-01T00:00:10Z");
        service(before, "echo", "tcp://127.0.0.1:7000", "LISTENING", 1000, 1000);
        t.lines(List.of(before), null, null, false);
        ObjectNode after = process(1, "a.jar", "2026-01-01T00:00:12Z");
        service(after, "echo", "tcp://127.0.0.1:7000", "LISTENING", 5000, 3000);
        assertThat(t.lines(List.of(after), null, null, false).get(1)).endsWith("3000/s  -"); // 6000 bytes in 2 s
    }

    @Test
    void idleUntouchedServicesOnlyWithAll() {
        ObjectNode p = process(1, "a.jar", "2026-01-01T00:00:10Z");
        service(p, "demo", "tcp://127.0.0.1:0", "IDLE", 0, 0);
        service(p, "echo", "tcp://127.0.0.1:7000", "LISTENING", 0, 0);
        assertThat(String.join("\n", new StatusTable().lines(List.of(p), null, null, false))).doesNotContain("demo");
        assertThat(String.join("\n", new StatusTable().lines(List.of(p), null, null, true))).contains("demo");
    }

    @Test
    void bytesAreExactBelowTenThousandThenBinaryUnits() {
        assertThat(StatusTable.bytes(0)).isEqualTo("0");
        assertThat(StatusTable.bytes(9_999)).isEqualTo("9999");
        assertThat(StatusTable.bytes(10_000)).isEqualTo("9.8K");
        assertThat(StatusTable.bytes(54_321)).isEqualTo("53.0K");
        assertThat(StatusTable.bytes(1L << 30)).isEqualTo("1.0G");
        assertThat(StatusTable.bytes(999L << 20)).isEqualTo("999M");
    }

    @Test
    void chunkedBodiesAreDecodedWholeAndAcrossChunks() throws IOException {
        String wire = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
        ControlClient.Chunked in = new ControlClient.Chunked(new ByteArrayInputStream(wire.getBytes(StandardCharsets.US_ASCII)));
        assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("hello, world");
        ControlClient.Chunked one = new ControlClient.Chunked(new ByteArrayInputStream(wire.getBytes(StandardCharsets.US_ASCII)));
        StringBuilder sb = new StringBuilder();
        for (int c; (c = one.read()) >= 0; ) {
            sb.append((char) c);
        }
        assertThat(sb).hasToString("hello, world");
    }

    @Test
    void theAggregateDocumentNamesItsDirectory() {
        JsonNode doc = ControlSockets.document(java.nio.file.Path.of("/run/user/1000/mancom"), List.of());
        assertThat(doc.get("runtimeDir").asText()).isEqualTo("/run/user/1000/mancom");
        assertThat(doc.get("processes")).isEmpty();
        assertThat(doc.get("takenAt").asText()).isNotEmpty();
    }
}
