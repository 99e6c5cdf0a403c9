package io.mancom.core.internal.monitor;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import io.mancom.ChannelStatus;
import io.mancom.EndPoint;
import io.mancom.ManComStatus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The JSON forms of the status records and of events, as the control socket serves them. Field
 * names are the records' component names; endpoints are their URIs, times ISO-8601 strings in
 * UTC, enums their names, and null values are written as null. Thread-safe (one shared mapper).
 */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper().registerModule(new SimpleModule("mancom")
            .addSerializer(EndPoint.class, ToStringSerializer.instance)
            .addSerializer(Instant.class, new InstantSerializer()));

    private Json() {
    }

    /** {@code status} as one JSON object. */
    public static String status(ManComStatus status) {
        return write(status);
    }

    /**
     * {@code status} as one JSON object, each service with a {@code refused} object: the
     * connections turned away before they became connections, by cause
     * ({@code {"max-connections":1900}}; empty when none was).
     */
    public static String status(ManComStatus status, Map<String, Map<String, Long>> refused) {
        com.fasterxml.jackson.databind.node.ObjectNode tree = MAPPER.valueToTree(status);
        for (com.fasterxml.jackson.databind.JsonNode s : tree.path("services")) {
            Map<String, Long> r = refused.getOrDefault(s.path("name").asText(), Map.of());
            ((com.fasterxml.jackson.databind.node.ObjectNode) s).set("refused", MAPPER.valueToTree(r));
        }
        return write(tree);
    }

    /**
     * One event as a JSON object: {@code {"event":"close","time":...,"service":...,"channel":{...},
     * "cause":...}}; {@code channel} and {@code cause} may be null.
     */
    static String event(String type, String service, ChannelStatus channel, String cause, Integer attempts) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", type);
        m.put("time", Instant.now());
        m.put("service", service);
        m.put("channel", channel);
        m.put("cause", cause);
        if (attempts != null) {
            m.put("attempts", attempts);
        }
        return write(m);
    }

    private static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static final class InstantSerializer extends JsonSerializer<Instant> {
        @Override
        public void serialize(Instant value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
            gen.writeString(value.toString());
        }
    }
}
