package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A service's tunnel: with {@code handler = tunnel} each connection becomes one stream on the mux
 * link of the service named by {@code via} (docs/proxy.md, Tunnels), opened to the far service
 * {@code tunnel.service} (default: the tunnel service's own name). Immutable.
 *
 * @param via     the uplink: a service with {@code mux = on} whose link this runtime dials
 * @param service the service the streams are opened to on the far side
 */
public record TunnelSettings(String via, String service) {
    /** The handler's name. */
    public static final String HANDLER = "tunnel";

    /**
     * The service's tunnel settings, or null when its handler is not {@code tunnel}.
     *
     * @throws ConfigException naming the file, line and key of a bad value
     */
    public static TunnelSettings of(ServiceSettings service) {
        return read(Settings.of(service), service.name());
    }

    /** As {@link #of(ServiceSettings)}, from a service's block (the loader's check). */
    static TunnelSettings read(Settings s, String name) {
        if (!HANDLER.equals(s.getString("handler"))) {
            return null;
        }
        String via = s.getString("via").trim();
        if (via.isEmpty()) {
            // Located at the handler: the empty via is the default's, the omission is the service's.
            throw Origins.error(s.origin("handler"), s.key() + ".via", "found no uplink but handler = tunnel needs"
                    + " one: via = \"NAME\", the name of a service with mux = on whose link this runtime dials");
        }
        String far = s.getString("tunnel.service").trim();
        return new TunnelSettings(via, far.isEmpty() ? name : far);
    }

    /** The rules across services: each tunnel's {@code via} names a service with {@code mux} on. */
    static List<ConfigException> problems(Map<String, ServiceSettings> services) {
        List<ConfigException> problems = new ArrayList<>();
        for (ServiceSettings s : services.values()) {
            if (!HANDLER.equals(s.handler())) {
                continue;
            }
            try {
                TunnelSettings t = of(s);
                ServiceSettings up = services.get(t.via());
                Settings settings = Settings.of(s);
                if (up == null) {
                    problems.add(settings.error("via", "found \"" + t.via() + "\" but expected the name of a configured"
                            + " service with mux = on (known services: " + String.join(", ", services.keySet()) + ")"));
                } else if (up == s || !MuxSettings.from(Settings.of(up)).enabled()) {
                    problems.add(settings.error("via", "found \"" + t.via() + "\" but "
                            + (up == s ? "a tunnel cannot be its own uplink" : "service '" + t.via() + "' has mux = off")
                            + "; via names the service with mux = on whose link carries the tunnel's streams"));
                }
            } catch (ConfigException e) {
                // Reported already: a bad via by the service's own check, a bad mux block by ServicePlan.
            }
        }
        return problems;
    }
}
