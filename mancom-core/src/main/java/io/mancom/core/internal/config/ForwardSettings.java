package io.mancom.core.internal.config;

import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.util.List;

/**
 * A service's {@code forward}: where {@code handler = forward} relays each connection
 * (docs/port-sharing.md). Written {@code forward = "tcp://10.0.0.5:22"} or as a block
 * {@code forward { endpoint = "...", proxy-protocol = v2 }}. Immutable.
 *
 * @param endpoint      the backend
 * @param proxyProtocol whether a PROXY protocol v2 header goes first, so the backend sees the
 *                      client's address
 */
public record ForwardSettings(EndPoint endpoint, boolean proxyProtocol) {
    /** The key. */
    public static final String KEY = "forward";

    /**
     * The service's forward settings, or null when its handler is not {@code forward}.
     *
     * @throws ConfigException naming the file, line and key of a bad value
     */
    public static ForwardSettings of(ServiceSettings service) {
        return read(Settings.of(service));
    }

    /** As {@link #of(ServiceSettings)}, from a service's block (the loader's check). */
    static ForwardSettings read(Settings s) {
        if (!"forward".equals(s.getString("handler"))) {
            return null;
        }
        ConfigValue v = s.hasPath(KEY) ? s.config().getValue(KEY) : null;
        String uri;
        boolean proxy = false;
        String key = KEY;
        if (v != null && v.valueType() == ConfigValueType.STRING) {
            uri = s.getString(KEY).trim();
        } else if (v != null && v.valueType() == ConfigValueType.OBJECT) {
            Settings b = s.block(KEY);
            b.requireKnownKeys(List.of("endpoint", "proxy-protocol"));
            uri = b.getString("endpoint").trim();
            String pp = b.getString("proxy-protocol").trim();
            if (!pp.equals("v2") && !List.of("off", "false", "no", "none").contains(pp)) {
                throw b.error("proxy-protocol", "found \"" + pp + "\" but expected off or v2");
            }
            proxy = pp.equals("v2");
            key = KEY + ".endpoint";
        } else {
            throw s.error(KEY, "found " + (v == null ? "no value" : Origins.show(v)) + " but handler = forward needs"
                    + " forward = \"tcp://HOST:PORT\" (or forward { endpoint = \"...\", proxy-protocol = v2 })");
        }
        if (uri.isEmpty()) {
            // Located at the handler: the empty endpoint is the default's, the omission is the service's.
            throw Origins.error(s.origin("handler"), s.key() + "." + KEY, "found no endpoint but handler = forward needs"
                    + " one, such as forward = \"tcp://127.0.0.1:22\"");
        }
        try {
            return new ForwardSettings(EndPoint.parse(uri), proxy);
        } catch (IllegalArgumentException e) {
            throw s.error(key, "found \"" + uri + "\" but expected an endpoint URI: " + e.getMessage());
        }
    }
}
