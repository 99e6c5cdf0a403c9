package io.mancom.core.spi;

import com.typesafe.config.Config;
import io.mancom.ConfigException;

import java.util.List;
import java.util.Map;

/**
 * The effective configuration of a runtime, as the runtime's loader validated it. An immutable
 * value (the map and lists are unmodifiable, {@link Config} is immutable); safe to share between
 * threads.
 *
 * @param ioThreads the event-loop threads ({@code mancom.io-threads}; 0 means Netty's default)
 * @param services  every configured service by name, sorted by name
 * @param layers    the layers consulted, in order (earliest first), present or not
 * @param config    the merged and resolved configuration; {@code config.getValue(key).origin()}
 *                  says where a value came from
 */
public record RuntimeSettings(int ioThreads, Map<String, ServiceSettings> services, List<ConfigLayer> layers,
                              Config config) {

    /**
     * The settings of one service.
     *
     * @throws ConfigException if no such service is configured; the message names the configured
     *                         ones and says how to add it
     */
    public ServiceSettings service(String name) {
        ServiceSettings s = services.get(name);
        if (s == null) {
            throw new ConfigException(null, -1, Settings.serviceKey(name), "no service \"" + name
                    + "\" is configured; configured services: "
                    + (services.isEmpty() ? "none" : String.join(", ", services.keySet()))
                    + " (add " + Settings.serviceKey(name) + " { endpoint = \"tcp://HOST:PORT\" } to a config file)");
        }
        return s;
    }
}
