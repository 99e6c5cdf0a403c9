package io.mancom.core.internal.config;

import com.typesafe.config.Config;
import io.mancom.ConfigException;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.Settings;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Where a runtime serves its Prometheus metrics over TCP, for a scraper on another host or in a
 * container: {@code mancom.metrics.listen = "127.0.0.1:9464"}. An immutable value.
 *
 * @param listen where to listen ({@code HOST:PORT}, {@code [v6]:PORT}; unresolved), or null for
 *               no listener (the default: the figures are on the control socket anyway)
 */
public record MetricsSettings(InetSocketAddress listen) {
    static final String METRICS = "metrics";
    static final String LISTEN = "listen";

    /**
     * Reads and checks the {@code metrics} block of {@code mancom}; unknown keys against
     * {@code reference}, unless that is null.
     *
     * @throws ConfigException naming the key: an address that is not HOST:PORT
     */
    static MetricsSettings read(Settings mancom, Config reference) {
        Settings metrics = mancom.block(METRICS);
        if (reference != null) {
            List<ConfigException> unknown = metrics.unknownKeys(Validator.keys(reference, "mancom", METRICS), false);
            if (!unknown.isEmpty()) {
                throw unknown.get(0);
            }
        }
        String listen = metrics.getString(LISTEN).trim();
        if (listen.isEmpty()) {
            return new MetricsSettings(null);
        }
        int colon = listen.lastIndexOf(':');
        String host = colon > 0 ? listen.substring(0, colon) : "";
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = -1;
        try {
            port = colon > 0 ? Integer.parseInt(listen.substring(colon + 1)) : -1;
        } catch (NumberFormatException e) {
            // reported below
        }
        if (host.isEmpty() || port < 0 || port > 65535) {
            throw metrics.error(LISTEN, "found \"" + listen + "\" but expected HOST:PORT such as \"127.0.0.1:9464\""
                    + " (\"0.0.0.0:9464\" for every interface), or \"\" for no metrics listener");
        }
        return new MetricsSettings(InetSocketAddress.createUnresolved(host, port));
    }

    /** The settings of a loaded runtime (validated already by the loader). */
    public static MetricsSettings of(RuntimeSettings runtime) {
        return read(Settings.of(runtime.config().getConfig("mancom"), "mancom"), null);
    }
}
