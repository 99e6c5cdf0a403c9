package io.mancom.core.internal.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** reference.conf is the schema and the user's documentation: both are checked here. */
class ReferenceConfTest {
    private final Config reference = ConfigFactory.parseResources(getClass().getClassLoader(), "reference.conf");

    @Test
    void hasExactlyTheAgreedSchema() {
        Map<String, Object> leaves = new TreeMap<>();
        reference.resolve().entrySet().forEach(e -> leaves.put(e.getKey(), e.getValue().unwrapped()));
        // The mux block belongs to the mux engineer; only its switch is fixed.
        leaves.keySet().removeIf(k -> k.startsWith("mancom.defaults.mux.") && !k.equals("mancom.defaults.mux.enabled"));

        assertThat(leaves).containsExactlyEntriesOf(new TreeMap<>(Map.ofEntries(
                Map.entry("mancom.io-threads", 0),
                Map.entry("mancom.metrics.listen", ""),
                Map.entry("mancom.runtime-dir", ""),
                Map.entry("mancom.control.enabled", "on"),
                Map.entry("mancom.daemon.socket", ""),
                Map.entry("mancom.defaults.scope", "process"),
                Map.entry("mancom.defaults.allow.users", java.util.List.of()),
                Map.entry("mancom.defaults.allow.groups", java.util.List.of()),
                Map.entry("mancom.defaults.hold.connections", 256),
                Map.entry("mancom.defaults.hold.timeout", "30s"),
                Map.entry("mancom.defaults.handler", "echo"),
                Map.entry("mancom.defaults.connect-timeout", "5s"),
                Map.entry("mancom.defaults.link.mode", "plain"),
                Map.entry("mancom.defaults.link.frame-size", 1024),
                Map.entry("mancom.defaults.link.window", "auto"),
                Map.entry("mancom.defaults.link.rto-min", "100ms"),
                Map.entry("mancom.defaults.link.rto-max", "3s"),
                Map.entry("mancom.defaults.link.keepalive", "1s"),
                Map.entry("mancom.defaults.link.timeout", "5s"),
                Map.entry("mancom.defaults.link.resume-timeout", "10s"),
                Map.entry("mancom.defaults.link.line-rate", "auto"),
                Map.entry("mancom.defaults.listen", "on"),
                Map.entry("mancom.defaults.write-buffer.low-water", "128KiB"),
                Map.entry("mancom.defaults.write-buffer.high-water", "256KiB"),
                Map.entry("mancom.defaults.write-buffer.max-pending", "16MiB"),
                Map.entry("mancom.defaults.blocking.read-buffer", "256KiB"),
                Map.entry("mancom.defaults.blocking.accept-backlog", 128),
                Map.entry("mancom.defaults.reconnect.enabled", "on"),
                Map.entry("mancom.defaults.reconnect.initial-delay", "100ms"),
                Map.entry("mancom.defaults.reconnect.max-delay", "5s"),
                Map.entry("mancom.defaults.tcp.backlog", 1024),
                Map.entry("mancom.defaults.tcp.no-delay", "on"),
                Map.entry("mancom.defaults.tcp.keep-alive", "off"),
                Map.entry("mancom.defaults.tcp.max-connections", 0),
                Map.entry("mancom.defaults.tcp.max-connections-per-peer", 0),
                Map.entry("mancom.defaults.tcp.idle-timeout", "off"),
                Map.entry("mancom.defaults.tcp.read-timeout", "off"),
                Map.entry("mancom.defaults.tcp.allow", java.util.List.of()),
                Map.entry("mancom.defaults.tcp.deny", java.util.List.of()),
                Map.entry("mancom.defaults.mux.enabled", "off"),
                Map.entry("mancom.defaults.framing.lines", "off"),
                Map.entry("mancom.defaults.framing.length-field", 0),
                Map.entry("mancom.defaults.framing.max-length", "1MiB"),
                Map.entry("mancom.defaults.tls.enabled", "off"),
                Map.entry("mancom.defaults.tls.cert", ""),
                Map.entry("mancom.defaults.tls.key", ""),
                Map.entry("mancom.defaults.tls.ca", ""),
                Map.entry("mancom.defaults.tls.client-auth", "none"),
                Map.entry("mancom.defaults.tls.alpn", java.util.List.of()),
                Map.entry("mancom.defaults.tls.protocols", java.util.List.of()),
                Map.entry("mancom.defaults.tls.passthrough", "off"),
                Map.entry("mancom.defaults.tls.verify", "on"),
                Map.entry("mancom.defaults.tunnel.service", ""),
                Map.entry("mancom.defaults.via", ""),
                Map.entry("mancom.defaults.tls.server-name", ""),
                Map.entry("mancom.defaults.tls.handshake-timeout", "10s"),
                Map.entry("mancom.defaults.match", ""),
                Map.entry("mancom.defaults.sniff.max-bytes", "16KiB"),
                Map.entry("mancom.defaults.sniff.timeout", "5s"),
                Map.entry("mancom.defaults.sniff.on-timeout", ""),
                Map.entry("mancom.defaults.forward.endpoint", ""),
                Map.entry("mancom.defaults.forward.proxy-protocol", "off"),
                Map.entry("mancom.services.demo.endpoint", "tcp://127.0.0.1:0"),
                Map.entry("mancom.services.demo.handler", "echo"))));
    }

    @Test
    void everyKeyIsDocumented() {
        for (Map.Entry<String, ConfigValue> e : reference.entrySet()) {
            String key = e.getKey();
            boolean documented = !e.getValue().origin().comments().isEmpty();
            // Inside a service example the block's comment documents its few keys.
            if (key.startsWith("mancom.services.")) {
                String block = key.substring(0, key.lastIndexOf('.'));
                documented |= !reference.getValue(block).origin().comments().isEmpty();
            }
            assertThat(documented).as("a comment above %s in reference.conf", key).isTrue();
        }
        for (String block : new String[]{"mancom", "mancom.defaults", "mancom.defaults.write-buffer",
                "mancom.defaults.blocking", "mancom.defaults.reconnect", "mancom.defaults.tcp", "mancom.defaults.mux", "mancom.defaults.framing", "mancom.defaults.tls",
                "mancom.defaults.sniff", "mancom.defaults.forward", "mancom.control", "mancom.daemon", "mancom.defaults.allow", "mancom.defaults.hold",
                "mancom.services"}) {
            assertThat(reference.getValue(block).origin().comments()).as("a comment above %s", block).isNotEmpty();
        }
    }
}
