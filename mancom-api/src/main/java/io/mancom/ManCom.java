package io.mancom;

import io.mancom.spi.RuntimeOptions;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The ManCom runtime: services by name, their transports chosen by configuration.
 *
 * <pre>{@code
 * try (ManCom mancom = ManCom.start()) {
 *     mancom.registerDataReceiver("echo", (conn, data) -> conn.write(data));
 *     mancom.awaitReady(Duration.ofSeconds(5));
 *     try (BlockingConnection c = mancom.connect("echo")) {
 *         c.write("hello".getBytes(UTF_8));
 *         int n = c.read(buffer, Duration.ofSeconds(2));
 *     }
 * }
 * }</pre>
 *
 * <h2>Configuration</h2>
 * {@link #start()} reads the layered configuration: {@code reference.conf} in the jars, then
 * {@code /etc/mancom/mancom.conf}, {@code /etc/mancom/conf.d/*.conf} in name order,
 * {@code $XDG_CONFIG_HOME/mancom/mancom.conf} (default {@code ~/.config/mancom/mancom.conf}), the
 * file named by {@code $MANCOM_CONFIG}, and system properties {@code -Dmancom.*}; later layers win.
 * Each service is an entry under {@code mancom.services} with at least an {@code endpoint}.
 *
 * <h2>Two styles</h2>
 * The callback API ({@link #registerAcceptor}, {@link #registerDataReceiver},
 * {@link #connectAsync}) serves many connections on a few event-loop threads. The blocking API
 * ({@link #accept}, {@link #connect}) suits simple programs. A service is served in one style:
 * calling {@code accept} for a service that has callbacks (or the reverse) is an
 * {@link IllegalStateException}.
 *
 * <h2>Lifecycle and threading</h2>
 * A ManCom is started once and closed once; {@link #close()} closes every connection, releases
 * every port, thread and buffer, and is idempotent. All methods are thread-safe. Registering a
 * callback binds the service's endpoint in the background; {@link #awaitReady} waits for that.
 *
 * <h2>Errors</h2>
 * Misconfiguration is a {@link ConfigException} (file, line, key); a service name that is not
 * configured is a {@link ConfigException} naming the known services; communication failures are
 * {@link ManComException}s with a {@link ManComException.Reason}.
 */
public interface ManCom extends AutoCloseable {

    /** Starts a runtime on the layered system-wide configuration. */
    static ManCom start() {
        return builder().start();
    }

    /**
     * Starts a runtime on one explicit config file instead of the system and user files (the
     * embedded defaults and {@code -Dmancom.*} still apply).
     */
    static ManCom start(Path configFile) {
        return builder().configFile(configFile).start();
    }

    /** A builder for a runtime with explicit settings. */
    static Builder builder() {
        return new Builder();
    }

    /**
     * Calls {@code callback} for every new connection of {@code service}, on the connection's event
     * loop. Binds the service's endpoint if this is its first registration.
     *
     * @throws ConfigException       if no such service is configured
     * @throws IllegalStateException if the service is already served with the blocking API
     */
    Registration registerAcceptor(String service, AcceptCallback callback);

    /** As {@link #registerAcceptor(String, AcceptCallback)}, calling back on {@code executor}. */
    Registration registerAcceptor(String service, AcceptCallback callback, Executor executor);

    /**
     * Delivers every chunk of data of {@code service}'s connections to {@code receiver}, and one
     * close event per connection. A service may have one receiver at a time. Connections that
     * arrive while a service has an acceptor but no receiver are not read from until a receiver
     * is registered (nothing is dropped).
     *
     * @throws ConfigException       if no such service is configured
     * @throws IllegalStateException if the service already has a receiver, or is served blocking
     */
    Registration registerDataReceiver(String service, DataReceiver receiver);

    /** As {@link #registerDataReceiver(String, DataReceiver)}, calling back on {@code executor}. */
    Registration registerDataReceiver(String service, DataReceiver receiver, Executor executor);

    /**
     * Opens a client connection to the service's configured endpoint; its data and close event go
     * to {@code receiver}. If this runtime itself serves the service on an ephemeral port, the
     * bound port is used.
     *
     * @return completes with the open connection, or fails with a {@link ManComException}
     *         (UNREACHABLE, TIMEOUT, ...) or a {@link ConfigException}
     */
    CompletableFuture<Connection> connectAsync(String service, DataReceiver receiver);

    /**
     * Opens a stream of {@code service} to the peer at the other end of {@code via}'s link: how a
     * server opens streams to a client that dialled it. Both services must share that link
     * ({@code mux} on, the same endpoint), and the peer must serve {@code service}; a peer that does
     * not refuses the stream, which then closes at once.
     *
     * @param via a connection that is a stream of a multiplexed link
     * @throws IllegalArgumentException if {@code via} is not a mux stream, or {@code service} does
     *                                  not share its link
     */
    CompletableFuture<Connection> connectAsync(String service, DataReceiver receiver, Connection via);

    /**
     * Waits up to {@code timeout} for the next connection of {@code service}. The first call binds
     * the service's endpoint; connections that arrive between calls wait in a bounded backlog
     * ({@code blocking.accept-backlog}).
     *
     * @throws ManComException       with reason TIMEOUT if none arrived in time, or why binding failed
     * @throws ConfigException       if no such service is configured
     * @throws IllegalStateException if the service is served with callbacks
     */
    BlockingConnection accept(String service, Duration timeout) throws IOException;

    /**
     * Binds {@code service} for the blocking API and waits until it is listening, without waiting
     * for a connection: the blocking counterpart of registering a callback. {@link #accept} does
     * this itself on its first call; call {@code listen} first when clients must be able to connect
     * before the first {@code accept} runs, or to learn an ephemeral port.
     *
     * @return the endpoint as bound (an ephemeral port resolved)
     * @throws ManComException       why it cannot listen (ADDRESS_IN_USE, ...) or TIMEOUT
     * @throws ConfigException       if no such service is configured
     * @throws IllegalStateException if the service is served with callbacks
     */
    EndPoint listen(String service, Duration timeout) throws IOException;

    /** Connects to {@code service} within the configured {@code connect-timeout}. */
    BlockingConnection connect(String service) throws IOException;

    /**
     * Connects to the service's configured endpoint within {@code timeout}.
     *
     * @throws ManComException UNREACHABLE, TIMEOUT, NO_TRANSPORT, ...
     * @throws ConfigException if no such service is configured
     */
    BlockingConnection connect(String service, Duration timeout) throws IOException;

    /**
     * Returns once every service that has a registration (or a blocking accept) is bound and
     * listening.
     *
     * @throws ManComException with reason NOT_READY (or the first failure's reason) and a message
     *                         that names each service that is not ready and why
     */
    void awaitReady(Duration timeout) throws ManComException;

    /**
     * A new {@link Poller} over this runtime's blocking connections and services: one thread can
     * wait for many of them at once. Close it when done.
     *
     * @throws UnsupportedOperationException a runtime without blocking readiness
     */
    default Poller newPoller() {
        throw new UnsupportedOperationException(getClass().getName() + " has no poller");
    }

    /** The names of the configured services, sorted. */
    Set<String> services();

    /**
     * The configured endpoint of a service.
     *
     * @throws ConfigException if no such service is configured
     */
    EndPoint endpoint(String service);

    /**
     * Where the service is bound in this runtime (the configured endpoint with an ephemeral port
     * resolved), or empty if it is not bound (yet).
     */
    Optional<EndPoint> boundEndPoint(String service);

    /**
     * What this runtime is doing now: its services with their totals, and every open channel with
     * its counters. Cheap enough to call every second; thread-safe. The same snapshot is served as
     * JSON on the runtime's control socket (see {@code mancom.control} in the configuration).
     */
    ManComStatus status();

    /** Closes every connection and listener and stops every thread. Idempotent. */
    @Override
    void close();

    /**
     * Settings for {@link ManCom#start()}. Not thread-safe; a builder may start several runtimes.
     *
     * <p>The builder only collects settings: each {@link #start()} hands an immutable snapshot of
     * them ({@link RuntimeOptions}) to the runtime implementation. Invalid arguments are rejected
     * by the setter ({@link NullPointerException} naming the argument,
     * {@link IllegalArgumentException} with the value).
     */
    final class Builder {
        private RuntimeOptions options = RuntimeOptions.defaults();

        Builder() {
        }

        /**
         * Use one explicit config file instead of the system, user and {@code $MANCOM_CONFIG}
         * files. The embedded defaults and {@code -Dmancom.*} still apply.
         */
        public Builder configFile(Path file) {
            options = options.withConfigFile(file);
            return this;
        }

        /** The system config folder (default {@code /etc/mancom}). */
        public Builder systemConfigDir(Path dir) {
            options = options.withSystemConfigDir(dir);
            return this;
        }

        /**
         * The user config folder (default {@code $XDG_CONFIG_HOME/mancom}, or
         * {@code ~/.config/mancom}).
         */
        public Builder userConfigDir(Path dir) {
            options = options.withUserConfigDir(dir);
            return this;
        }

        /** The environment variables to consult (default {@link System#getenv()}). */
        public Builder environment(Map<String, String> env) {
            options = options.withEnvironment(env);
            return this;
        }

        /** The system properties to consult for {@code mancom.*} (default the JVM's). */
        public Builder systemProperties(Properties props) {
            options = options.withSystemProperties(props);
            return this;
        }

        /** HOCON text applied on top of every other layer; for programs and tests. */
        public Builder overrides(String hocon) {
            options = options.withOverrides(hocon);
            return this;
        }

        /**
         * The number of event-loop threads; 0 (the default) takes {@code mancom.io-threads} from
         * the config.
         */
        public Builder ioThreads(int n) {
            options = options.withIoThreads(n);
            return this;
        }

        /**
         * Told of every channel's open, close, failures and reconnects, on the event loops; see
         * {@link EventListener} for what a listener may do. Default {@link EventListener#NONE}.
         */
        public Builder eventListener(EventListener listener) {
            options = options.withEventListener(listener);
            return this;
        }

        /**
         * Picks the certificate of every TLS service per handshake, by the server name the client
         * asked for (SNI); a null answer means the service's configured {@code tls.cert}. See
         * {@link CertificateSelector} for when and where it is called.
         */
        public Builder certificates(CertificateSelector selector) {
            options = options.withCertificates(selector);
            return this;
        }

        /**
         * Loads the configuration and starts the runtime.
         *
         * @throws ConfigException       if the configuration is invalid
         * @throws IllegalStateException if no runtime (mancom-core) is on the class path
         */
        public ManCom start() {
            return Runtimes.provider().start(options);
        }
    }
}
