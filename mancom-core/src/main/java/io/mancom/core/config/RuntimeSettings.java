package io.mancom.core.config;

import com.typesafe.config.Config;

import java.util.List;
import java.util.Map;

/**
 * The effective configuration of a runtime.
 *
 * @param ioThreads the event-loop threads ({@code mancom.io-threads}; 0 means Netty's default)
 * @param services  every configured service by name, sorted by name
 * @param layers    the layers consulted, in order (earliest first), present or not
 * @param config    the merged and resolved configuration; {@code config.getValue(key).origin()}
 *                  says where a value came from
 */
public record RuntimeSettings(int ioThreads, Map<String, ServiceSettings> services, List<ConfigLayer> layers,
                              Config config) {
}
