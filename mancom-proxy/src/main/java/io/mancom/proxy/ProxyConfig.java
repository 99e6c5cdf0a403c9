package io.mancom.proxy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.mancom.ConfigException;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What an HTTP proxy does: where its upstream is and how it may use it. Read from a service's
 * block ({@code handler = http-proxy}, the keys in mancom-proxy's {@code reference.conf}) with
 * {@link #from(Settings)}, or from command-line values with {@link #of(Map, String)}.
 *
 * <h2>Keys</h2>
 * <ul>
 *   <li>{@code upstream}: {@code h2c://HOST:PORT}, {@code h2://HOST:PORT} or {@code http://HOST:PORT};</li>
 *   <li>{@code upstream-connections}: the most upstream connections (HTTP/2: open another only when
 *       every open one is at the peer's {@code SETTINGS_MAX_CONCURRENT_STREAMS}; HTTP/1.1: the pool);</li>
 *   <li>{@code upstream-timeout}: from a request's arrival to its whole response, else 504;</li>
 *   <li>{@code upstream-queue}: requests waiting for a stream or a connection, else 503;</li>
 *   <li>{@code upstream-ca}: h2 only, a PEM file of trusted CA certificates ({@code ""}: the JVM's);</li>
 *   <li>{@code http-max-body}: the largest body held, else 413 (request) or 502 (response).</li>
 * </ul>
 *
 * <h2>Threading and errors</h2>
 * An immutable value. The factories throw {@link ConfigException} naming the file, line and key
 * of the first bad value, with every further one attached as a suppressed exception.
 *
 * @param upstream    the upstream's address and protocol
 * @param connections {@code upstream-connections}
 * @param timeout     {@code upstream-timeout}
 * @param queue       {@code upstream-queue}
 * @param ca          {@code upstream-ca}, if set
 * @param maxBody     {@code http-max-body} in bytes
 */
public record ProxyConfig(Upstream upstream, int connections, Duration timeout, int queue, Optional<Path> ca,
                          int maxBody) {

    /** The keys this module adds to a service block. */
    public static final List<String> KEYS = List.of("upstream", "upstream-connections", "upstream-timeout",
            "upstream-queue", "upstream-ca", "http-max-body");

    static final int MAX_CONNECTIONS = 1024;
    static final int MAX_QUEUE = 1 << 20;

    public ProxyConfig {
        Objects.requireNonNull(upstream, "upstream");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(ca, "ca");
        if (connections < 1) {
            throw new IllegalArgumentException("connections < 1: " + connections);
        }
        if (queue < 0) {
            throw new IllegalArgumentException("queue < 0: " + queue);
        }
        if (maxBody < 0) {
            throw new IllegalArgumentException("maxBody < 0: " + maxBody);
        }
    }

    /** The upstream's protocol, from the URI's scheme. */
    public enum Protocol {
        /** HTTP/2 in cleartext with prior knowledge ({@code h2c://}). */
        H2C,
        /** HTTP/2 over TLS, agreed with ALPN ({@code h2://}). */
        H2,
        /** HTTP/1.1 with keep-alive ({@code http://}). */
        HTTP1;

        /** Whether requests become streams of a shared HTTP/2 connection. */
        public boolean multiplexed() {
            return this != HTTP1;
        }
    }

    /**
     * Where requests go.
     *
     * @param protocol how
     * @param host     the host name or address (also the TLS server name and the certificate's name)
     * @param port     the TCP port
     */
    public record Upstream(Protocol protocol, String host, int port) {
        public Upstream {
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(host, "host");
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }

        /**
         * Parses {@code h2c://HOST:PORT}, {@code h2://HOST:PORT} or {@code http://HOST:PORT}
         * (a path, query or user part is refused: the proxy forwards each client's own path).
         *
         * @throws IllegalArgumentException saying what is wrong
         */
        public static Upstream parse(String text) {
            URI uri;
            try {
                uri = new URI(text);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("not a URI: " + e.getMessage());
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            Protocol p = switch (scheme) {
                case "h2c" -> Protocol.H2C;
                case "h2" -> Protocol.H2;
                case "http" -> Protocol.HTTP1;
                default -> throw new IllegalArgumentException("the scheme must be h2c, h2 or http");
            };
            if (uri.getHost() == null || uri.getPort() < 0) {
                throw new IllegalArgumentException("a host and a port are needed, as in " + scheme + "://127.0.0.1:8080");
            }
            if ((uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                    || uri.getRawQuery() != null || uri.getRawUserInfo() != null || uri.getRawFragment() != null) {
                throw new IllegalArgumentException("only " + scheme + "://HOST:PORT is allowed (each request keeps its own path)");
            }
            String host = uri.getHost();
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return new Upstream(p, host, uri.getPort());
        }

        @Override
        public String toString() {
            String scheme = switch (protocol) {
                case H2C -> "h2c";
                case H2 -> "h2";
                case HTTP1 -> "http";
            };
            return scheme + "://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    /** Reads a service's settings ({@link Settings#of(ServiceSettings)}). */
    public static ProxyConfig from(ServiceSettings service) {
        return from(Settings.of(service));
    }

    /**
     * Reads and checks the keys of a block (a service's, with the defaults as its fallback).
     *
     * @throws ConfigException for the first bad or missing value (others suppressed)
     */
    public static ProxyConfig from(Settings s) {
        Errors errors = new Errors();
        Upstream upstream = errors.attempt(() -> upstream(s));
        Integer connections = errors.attempt(() -> s.getInt("upstream-connections", 1, MAX_CONNECTIONS));
        Duration timeout = errors.attempt(() -> s.getDuration("upstream-timeout", Duration.ofMillis(1), Duration.ofDays(1)));
        Integer queue = errors.attempt(() -> s.getInt("upstream-queue", 0, MAX_QUEUE));
        Optional<Path> ca = errors.attempt(() -> ca(s, upstream));
        Integer maxBody = errors.attempt(() -> s.getIntBytes("http-max-body", 0, Integer.MAX_VALUE));
        errors.throwIfAny();
        return new ProxyConfig(upstream, connections, timeout, queue, ca, maxBody);
    }

    /**
     * Reads command-line values over the defaults of mancom-proxy's {@code reference.conf};
     * {@code values} maps keys of {@link #KEYS} to their text ({@code upstream-timeout -> "5s"}).
     *
     * @param origin what errors name as the file, such as {@code "command line"}
     * @throws ConfigException for the first bad value
     */
    public static ProxyConfig of(Map<String, String> values, String origin) {
        Config given = ConfigFactory.parseMap(values, origin);
        Config defaults = ConfigFactory.defaultReference(ProxyConfig.class.getClassLoader()).getConfig(Settings.DEFAULTS);
        Settings.of(given, "proxy").requireKnownKeys(KEYS);
        return from(Settings.of(given, "proxy", defaults, Settings.DEFAULTS));
    }

    /** The {@code handler} value of a service this module serves. */
    public static final String HANDLER = "http-proxy";

    /**
     * Checks the proxy keys of every service with {@code handler = http-proxy}, as
     * {@code mancom config check} does.
     *
     * @throws ConfigException for the first bad value (every further one suppressed)
     */
    public static void checkServices(RuntimeSettings runtime) {
        Errors errors = new Errors();
        for (ServiceSettings service : runtime.services().values()) {
            if (HANDLER.equals(service.handler())) {
                errors.attempt(() -> from(Settings.of(runtime, service.name())));
            }
        }
        errors.throwIfAny();
    }

    private static Upstream upstream(Settings s) {
        String text = s.getString("upstream");
        if (text.isEmpty()) {
            throw s.error("upstream", "found no upstream but expected one, such as upstream = \"h2c://127.0.0.1:8080\","
                    + " \"h2://backend.example:443\" or \"http://127.0.0.1:8080\"");
        }
        try {
            return Upstream.parse(text);
        } catch (IllegalArgumentException e) {
            throw s.error("upstream", "found \"" + text + "\" but expected h2c://HOST:PORT, h2://HOST:PORT or"
                    + " http://HOST:PORT: " + e.getMessage());
        }
    }

    private static Optional<Path> ca(Settings s, Upstream upstream) {
        String text = s.getString("upstream-ca");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        if (upstream != null && upstream.protocol() != Protocol.H2) {
            throw s.error("upstream-ca", "found a CA file but the upstream is " + upstream + "; only h2:// uses TLS");
        }
        Path p = Path.of(text);
        if (!Files.isReadable(p)) {
            throw s.error("upstream-ca", "found \"" + text + "\" but expected a readable PEM file of CA certificates");
        }
        return Optional.of(p);
    }

    /** Collects every problem, as the core's loader does, and throws the first with the rest suppressed. */
    private static final class Errors {
        private ConfigException first;

        <T> T attempt(java.util.function.Supplier<T> read) {
            try {
                return read.get();
            } catch (ConfigException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                    for (Throwable more : e.getSuppressed()) {
                        first.addSuppressed(more);
                    }
                }
                return null;
            }
        }

        void throwIfAny() {
            if (first != null) {
                throw first;
            }
        }
    }
}
