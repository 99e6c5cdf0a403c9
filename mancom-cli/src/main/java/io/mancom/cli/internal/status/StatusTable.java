package io.mancom.cli.internal.status;

import com.fasterxml.jackson.databind.JsonNode;
import io.mancom.EndPoint;
import io.mancom.cli.internal.EndpointText;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one table of {@code mancom status}: a row per service of every process, and under it a row
 * per open channel of that service (mux sessions, which carry several services, come last under
 * their process), like {@code ss} or {@code docker ps}, in at most {@value #WIDTH} columns. TYPE is
 * a service's transport, or a channel's kind (tcp, serial, usb, mux for a mux session, stream).
 * Services that are configured but idle and untouched (the built-in {@code demo} of every
 * {@code mancom serve}) are left out unless all are asked for, as {@code docker ps} leaves out
 * stopped containers.
 *
 * <h2>Rates</h2>
 * The RATE column is bytes in plus out per second. Given the previous snapshots ({@code --watch}),
 * it is the change since then; without them, the average since the service's runtime started
 * (for a channel: since it opened), so a single run still says which service is busy.
 *
 * <p>Not thread-safe: one instance per command, called from one thread.
 */
public final class StatusTable {
    /** The widest line printed: it fits a 100-column terminal. */
    public static final int WIDTH = 100;
    private static final String[] HEAD = {"PID", "PROCESS", "SERVICE", "TYPE", "ENDPOINT", "STATE", "PEERS",
            "IN", "OUT", "RATE", "ERRORS"};
    private static final boolean[] RIGHT = {true, false, false, false, false, false, true, true, true, true, false};
    /** Widest cell per column before it is cut (the last column takes what is left). */
    private static final int[] CAP = {7, 16, 16, 6, 32, 8, 5, 6, 6, 8, 0};
    /** The columns cut when a line would exceed {@link #WIDTH}, each never below its floor. */
    private static final int[] SHRINK = {4, 1, 2};
    private static final int[] FLOOR = {0, 8, 8, 0, 15, 0, 0, 0, 0, 0, 0};
    /** ERRORS keeps at least this many columns (when its cells need them). */
    private static final int ERRORS_MIN = 12;

    /** Bytes seen per row key (pid/service or pid#channel) at the previous snapshot, for rates. */
    private Map<String, long[]> previous = new HashMap<>();

    /**
     * The table of {@code statuses} (each a runtime's {@code /status}), keeping only process
     * {@code pid} (if not null) and service {@code service} (if not null); idle, untouched
     * services only if {@code all}.
     */
    public List<String> lines(List<? extends JsonNode> statuses, Long pid, String service, boolean all) {
        List<String[]> rows = new ArrayList<>();
        Map<String, long[]> seen = new HashMap<>();
        for (JsonNode p : statuses) {
            long procId = p.path("pid").asLong();
            if (pid != null && procId != pid) {
                continue;
            }
            String proc = processName(p.path("processName").asText(""));
            Instant taken = instant(p.path("takenAt"));
            Instant started = instant(p.path("startedAt"));
            boolean first = true;
            Set<Long> listed = new HashSet<>();
            for (JsonNode s : p.path("services")) {
                String name = s.path("name").asText();
                if (service != null && !service.equals(name) || !all && untouched(s, p)) {
                    continue;
                }
                long in = s.path("bytesIn").asLong();
                long out = s.path("bytesOut").asLong();
                String key = procId + "/" + name;
                rows.add(new String[] {first ? Long.toString(procId) : "", first ? proc : "", name,
                        lower(s.path("transport")), endpoint(s), state(s), s.path("connectionsOpen").asText("0"),
                        bytes(in), bytes(out), rate(key, in + out, taken, started, seen), errors(s)});
                first = false;
                for (JsonNode c : p.path("channels")) {
                    if (c.path("service").asText().equals(name)) {
                        listed.add(c.path("id").asLong());
                        rows.add(channel(procId, c, taken, seen));
                    }
                }
            }
            if (service == null) {
                for (JsonNode c : p.path("channels")) {
                    if (!listed.contains(c.path("id").asLong())) {
                        rows.add(channel(procId, c, taken, seen)); // mux sessions: several services
                    }
                }
            }
        }
        previous = seen;
        return format(rows);
    }

    /**
     * A process's name as short as it says it: a main class without its package
     * ({@code io.mancom.cli.Main} is {@code Main}, as {@code jps} shows it), a jar without
     * {@code .jar} ({@code mancom-cli}), an executable as it is.
     */
    static String processName(String name) {
        if (name.endsWith(".jar") && name.length() > 4) {
            return name.substring(0, name.length() - 4);
        }
        if (!name.matches("[\\p{L}_$][\\p{L}\\p{N}_$]*(\\.[\\p{L}_$][\\p{L}\\p{N}_$]*)+")) {
            return name;
        }
        return name.substring(name.lastIndexOf('.') + 1);
    }

    /** Idle, never used, nothing open: a service configured for another program. */
    private static boolean untouched(JsonNode s, JsonNode p) {
        if (!s.path("state").asText().equals("IDLE") || s.path("bytesIn").asLong() != 0
                || s.path("bytesOut").asLong() != 0 || s.path("acceptedTotal").asLong() != 0
                || s.path("connectionsOpen").asLong() != 0 || !s.path("errors").isEmpty()) {
            return false;
        }
        for (JsonNode c : p.path("channels")) {
            if (c.path("service").asText().equals(s.path("name").asText())) {
                return false;
            }
        }
        return true;
    }

    private String[] channel(long procId, JsonNode c, Instant taken, Map<String, long[]> seen) {
        long in = c.path("bytesIn").asLong();
        long out = c.path("bytesOut").asLong();
        String kind = switch (c.path("kind").asText()) {
            case "MUX_SESSION" -> "mux";
            case "MUX_STREAM" -> "stream";
            default -> lower(c.path("kind"));
        };
        String who = c.path("kind").asText().equals("MUX_SESSION") ? " #" + c.path("id").asLong() + " "
                + c.path("service").asText() : " #" + c.path("id").asLong();
        JsonNode remote = c.path("remote");
        String peer = remote.isTextual() ? brief(remote.asText()) : "";
        return new String[] {"", "", who, kind, peer, c.path("state").asText().equals("HALF_CLOSED") ? "half" : lower(c.path("state")), "", bytes(in),
                bytes(out), rate(procId + "#" + c.path("id").asLong(), in + out, taken, instant(c.path("openedAt")), seen),
                c.path("closeCause").asText("")};
    }

    /** Bytes per second since the previous snapshot, or on average since {@code since}. */
    private String rate(String key, long total, Instant taken, Instant since, Map<String, long[]> seen) {
        long now = taken != null ? taken.toEpochMilli() : System.currentTimeMillis();
        seen.put(key, new long[] {total, now});
        long[] before = previous.get(key);
        long fromBytes = 0;
        long fromMillis = since != null ? since.toEpochMilli() : now;
        if (before != null) {
            fromBytes = before[0];
            fromMillis = before[1];
        }
        long ms = now - fromMillis;
        if (ms <= 0) {
            return "-";
        }
        return bytes(Math.max(0, (total - fromBytes) * 1000 / ms)) + "/s";
    }

    private static String endpoint(JsonNode s) {
        JsonNode bound = s.path("bound");
        return brief(bound.isTextual() ? bound.asText() : s.path("endpoint").asText(""));
    }

    /** An endpoint as the table shows it: tcp without its scheme (TRANSPORT says it), options at their defaults left out. */
    static String brief(String uri) {
        try {
            String b = EndpointText.brief(EndPoint.parse(uri));
            return b.startsWith("tcp://") ? b.substring(6) : b;
        } catch (RuntimeException notAnEndpoint) {
            return uri;
        }
    }

    /** A service's state in a word: listen, starting, waiting (for its device), failed, idle. */
    private static String state(JsonNode s) {
        return switch (s.path("state").asText()) {
            case "LISTENING" -> "listen";
            case "WAITING_FOR_DEVICE" -> "waiting";
            default -> lower(s.path("state"));
        };
    }

    /** The errors by reason ({@code link_failed 2}), else the reason the service is not serving, else "-". */
    private static String errors(JsonNode s) {
        List<String> parts = new ArrayList<>();
        JsonNode why = s.path("why");
        if (why.isTextual() && !why.asText().isEmpty()) {
            parts.add(why.asText());
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = s.path("errors").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            parts.add(e.getKey().toLowerCase(Locale.ROOT) + " " + e.getValue().asLong());
        }
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }

    private static String lower(JsonNode n) {
        return n.asText("").toLowerCase(Locale.ROOT);
    }

    private static Instant instant(JsonNode n) {
        try {
            return n.isTextual() ? Instant.parse(n.asText()) : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** A byte count in at most 6 characters: exact below 10,000, else binary K, M, G, T with one decimal under 100. */
    public static String bytes(long n) {
        if (n < 10_000) {
            return Long.toString(n);
        }
        String[] units = {"K", "M", "G", "T", "P"};
        double v = n;
        int i = -1;
        do {
            v /= 1024;
            i++;
        } while (v >= 1000 && i < units.length - 1);
        return (v < 100 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%.0f", v)) + units[i];
    }

    /** Pads the columns to their widest cell (capped), cuts the widest columns while a line is too long. */
    private static List<String> format(List<String[]> rows) {
        int n = HEAD.length;
        int[] width = new int[n];
        for (int i = 0; i < n; i++) {
            width[i] = HEAD[i].length();
        }
        for (String[] r : rows) {
            for (int i = 0; i < n - 1; i++) {
                width[i] = Math.max(width[i], Math.min(CAP[i], r[i].length()));
            }
        }
        int fixed = 0;
        for (int i = 0; i < n - 1; i++) {
            fixed += width[i] + 2;
        }
        // ERRORS asks for its widest cell, up to ERRORS_MIN; cut the widest of the text columns by
        // one until it has that room or all are at their floor.
        int errors = HEAD[n - 1].length();
        for (String[] r : rows) {
            errors = Math.max(errors, Math.min(ERRORS_MIN, r[n - 1].length()));
        }
        while (fixed > WIDTH - errors) {
            int widest = -1;
            for (int c : SHRINK) {
                if (width[c] > FLOOR[c] && (widest < 0 || width[c] - FLOOR[c] > width[widest] - FLOOR[widest])) {
                    widest = c;
                }
            }
            if (widest < 0) {
                break;
            }
            width[widest]--;
            fixed--;
        }
        width[n - 1] = Math.max(HEAD[n - 1].length(), WIDTH - fixed);
        List<String> out = new ArrayList<>();
        out.add(line(HEAD, width));
        for (String[] r : rows) {
            out.add(line(r, width));
        }
        return out;
    }

    private static String line(String[] cells, int[] width) {
        StringBuilder sb = new StringBuilder(WIDTH);
        for (int i = 0; i < cells.length; i++) {
            // An endpoint keeps its end (the port, the device's own name), the rest their start.
            String c = i == 4 ? cutLeft(cells[i], width[i]) : cut(cells[i], width[i]);
            String pad = " ".repeat(width[i] - c.length());
            if (i > 0) {
                sb.append("  ");
            }
            sb.append(RIGHT[i] ? pad + c : c + pad);
        }
        String s = sb.toString().stripTrailing();
        return s.length() > WIDTH ? s.substring(0, WIDTH) : s;
    }

    private static String cutLeft(String s, int width) {
        return s.length() <= width ? s : "…" + s.substring(s.length() - Math.max(0, width - 1));
    }

    private static String cut(String s, int width) {
        return s.length() <= width ? s : s.substring(0, Math.max(0, width - 1)) + "…";
    }
}
