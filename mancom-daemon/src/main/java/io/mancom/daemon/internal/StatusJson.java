package io.mancom.daemon.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON of {@code GET /status} and of a reload's report. Field names are part of the control
 * protocol's read side (tools and tests read them):
 *
 * <pre>
 * {"pid": 4242, "started": "2026-...Z", "socket": "/run/mancom/mancomd.sock",
 *  "services": [{"name": "web", "endpoint": "tcp://0.0.0.0:8080", "carry": "fds", "ready": true,
 *                "notReady": null, "held": 0, "handedOver": 12, "closedByHoldBounds": 0,
 *                "dropped": {"hold_timeout": 0, "hold_connections": 0},
 *                "attached": [{"pid": 5151, "uid": 33, "user": "www-data", "style": "callbacks",
 *                              "since": "..."}]}]}
 * </pre>
 *
 * Stateless and thread-safe.
 */
final class StatusJson {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private StatusJson() {
    }

    static String status(Daemon daemon, String socket) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("pid", ProcessHandle.current().pid());
        root.put("started", daemon.started().toString());
        root.put("socket", socket);
        List<Object> services = new ArrayList<>();
        for (String name : daemon.services()) {
            Owner o = daemon.owner(name);
            if (o == null) {
                continue;
            }
            Owner.OwnerStatus s = o.status(name);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("endpoint", o.endpoint(name).toString());
            m.put("carry", o.carry());
            String why = o.notReady(name);
            m.put("ready", why == null);
            m.put("notReady", why);
            m.put("held", s.held());
            m.put("handedOver", s.handedOver());
            m.put("closedByHoldBounds", s.heldTooLong());
            m.put("dropped", o.dropped(name));
            List<Object> procs = new ArrayList<>();
            for (Daemon.Attached a : daemon.attachedTo(name)) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("pid", a.peer().pid());
                p.put("uid", a.peer().uid());
                p.put("user", a.peer().user());
                p.put("style", a.style());
                p.put("since", a.since().toString());
                procs.add(p);
            }
            m.put("attached", procs);
            services.add(m);
        }
        root.put("services", services);
        return write(root);
    }

    static String report(Daemon.Report r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", r.error() == null);
        m.put("kept", r.kept());
        m.put("started", r.started());
        m.put("restarted", r.restarted());
        m.put("stopped", r.stopped());
        if (r.error() != null) {
            m.put("error", r.error());
        }
        return write(m);
    }

    private static String write(Object o) {
        try {
            return MAPPER.writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
