package io.mancom.cli.internal.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mancom.cli.internal.Table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The system daemon's part of {@code mancom status}: its {@code GET /status} (docs/daemon.md),
 * read from its socket when one is there, and the lines that show it under the processes' table.
 * Stateless.
 */
final class DaemonStatus {
    private DaemonStatus() {
    }

    /**
     * The daemon's status, or empty when no daemon answers at {@code socket} (no file, or a stale
     * one that refuses the connection).
     */
    static Optional<ObjectNode> query(Path socket) {
        if (!Files.exists(socket)) {
            return Optional.empty();
        }
        try {
            JsonNode n = ControlSockets.JSON.readTree(ControlClient.get(socket, "/status", ControlSockets.TIMEOUT));
            return n instanceof ObjectNode o ? Optional.of(o) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** "daemon PID on SOCKET" and a row per service it owns: who is attached, what it holds. */
    static List<String> lines(ObjectNode daemon, String onlyService) {
        List<String> out = new ArrayList<>();
        out.add("daemon " + daemon.path("pid").asText("?") + " on " + daemon.path("socket").asText("?"));
        Table t = new Table("  ", "SERVICE", "ENDPOINT", "CARRY", "STATE", "PROCESSES", "HELD>", "HANDED>", "DROPPED>");
        for (JsonNode s : daemon.path("services")) {
            String name = s.path("name").asText();
            if (onlyService != null && !onlyService.equals(name)) {
                continue;
            }
            List<String> pids = new ArrayList<>();
            for (JsonNode a : s.path("attached")) {
                pids.add(a.path("pid").asText() + " (" + a.path("user").asText() + ")");
            }
            String state = s.path("ready").asBoolean(false) ? "serving" : "not ready: " + s.path("notReady").asText("");
            t.row(name, s.path("endpoint").asText(), s.path("carry").asText(), state,
                    pids.isEmpty() ? "none (holding)" : String.join(", ", pids), s.path("held").asLong(),
                    s.path("handedOver").asLong(), s.path("closedByHoldBounds").asLong());
        }
        out.addAll(t.lines());
        return out;
    }
}
