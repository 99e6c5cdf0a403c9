package io.mancom.cli.internal.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code mancom status --events}: a live tail of every runtime's {@code /events}, one line per
 * open, close, error and reconnect, like {@code docker events}. Runtimes that start later are
 * picked up (the directory is read again every second); runtimes that end drop out.
 *
 * <h2>Threading</h2>
 * One daemon reader thread per runtime puts lines on a queue; the calling thread prints them, so
 * lines never interleave. {@link #run} returns after {@code count} events (0: never; Ctrl-C ends
 * the process). Not reusable.
 */
final class EventsTail {
    private final ControlSockets sockets;
    private final Long pid;
    private final String service;
    private final boolean json;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>(10_000);
    /** Socket path to its reader, while subscribed. */
    private final Map<String, ControlClient.Events> subscribed = new HashMap<>();

    EventsTail(ControlSockets sockets, Long pid, String service, boolean json) {
        this.sockets = sockets;
        this.pid = pid;
        this.service = service;
        this.json = json;
    }

    void run(PrintWriter out, PrintWriter err, long count) throws IOException, InterruptedException {
        int n = subscribeNew();
        // Said once every stream is subscribed (its hello read): an event after this line is shown.
        err.println("mancom status: following the events of " + n + (n == 1 ? " process" : " processes") + " in "
                + sockets.runtimeDir() + " (Ctrl-C to stop)");
        err.flush();
        long shown = 0;
        while (count <= 0 || shown < count) {
            String line = lines.poll(1, TimeUnit.SECONDS);
            if (line == null) {
                subscribeNew();
                continue;
            }
            out.println(line);
            out.flush();
            shown++;
        }
        synchronized (subscribed) {
            subscribed.values().forEach(ControlClient.Events::close);
        }
    }

    /** Subscribes to every runtime not followed yet; returns how many are followed now. */
    private int subscribeNew() throws IOException {
        for (ControlSockets.Socket s : sockets.list()) {
            if (pid != null && s.pid() != pid) {
                continue;
            }
            String key = s.path().toString();
            synchronized (subscribed) {
                if (subscribed.containsKey(key)) {
                    continue;
                }
            }
            String process;
            ControlClient.Events r;
            try {
                ObjectNode status = ControlSockets.query(s, problem -> { });
                process = status != null ? StatusTable.processName(status.path("processName").asText("")) : "";
                r = ControlClient.events(s.path());
                String hello = r.lines().readLine(); // ": mancom events": subscribed from here on
                if (hello == null) {
                    r.close();
                    continue;
                }
            } catch (IOException gone) {
                continue; // ended between the listing and the subscription
            }
            synchronized (subscribed) {
                subscribed.put(key, r);
            }
            Thread t = new Thread(() -> follow(key, s.pid(), process, r), "mancom-events-" + s.pid());
            t.setDaemon(true);
            t.start();
        }
        synchronized (subscribed) {
            return subscribed.size();
        }
    }

    private void follow(String key, long procId, String process, ControlClient.Events r) {
        try (r) {
            for (String line; (line = r.lines().readLine()) != null; ) {
                if (!line.startsWith("data:")) {
                    continue; // comments (the hello) and blank separators
                }
                JsonNode e = ControlSockets.JSON.readTree(line.substring(5).trim());
                if (service != null && !service.equals(e.path("service").asText())) {
                    continue;
                }
                String shown;
                if (json) {
                    ObjectNode o = (ObjectNode) e;
                    o.put("pid", procId);
                    shown = o.toString();
                } else {
                    shown = format(procId, process, e);
                }
                lines.put(shown);
            }
        } catch (IOException ended) {
            // the runtime closed, or we did
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            synchronized (subscribed) {
                subscribed.remove(key);
            }
        }
    }

    /** {@code TIME  PID PROCESS  EVENT  SERVICE  #id kind remote  in/out  cause}. */
    static String format(long pid, String process, JsonNode e) {
        List<String> parts = new ArrayList<>();
        parts.add(e.path("time").asText(""));
        parts.add(pid + " " + process);
        parts.add(e.path("event").asText());
        parts.add(e.path("service").asText(""));
        JsonNode c = e.path("channel");
        if (c.isObject()) {
            String remote = c.path("remote").isTextual() ? " " + StatusTable.brief(c.path("remote").asText()) : "";
            parts.add("#" + c.path("id").asLong() + " " + c.path("kind").asText().toLowerCase(Locale.ROOT) + remote);
            parts.add("in " + c.path("bytesIn").asLong() + " out " + c.path("bytesOut").asLong());
        }
        if (e.path("attempts").isNumber()) {
            parts.add("attempt " + e.path("attempts").asInt());
        }
        if (e.path("cause").isTextual()) {
            parts.add(e.path("cause").asText());
        }
        return String.join("  ", parts);
    }
}
