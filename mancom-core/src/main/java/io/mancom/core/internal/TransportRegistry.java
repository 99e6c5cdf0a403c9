package io.mancom.core.internal;

import io.mancom.core.internal.config.DaemonSettings;
import io.mancom.core.internal.config.ScopeSettings;
import io.mancom.core.internal.daemon.SystemTransport;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.spi.Transport;
import io.mancom.spi.TransportContext;
import io.mancom.spi.TransportProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The transports of one runtime, by scheme. Providers are discovered with {@link ServiceLoader}
 * (defensively: one that fails to load is logged and skipped) or handed in directly by tests;
 * each transport is created the first time a service needs it. Thread-safe.
 */
final class TransportRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransportRegistry.class);

    private final Map<String, TransportProvider> providers;
    private final Map<String, Transport> transports = new TreeMap<>();
    private final TransportContext context;
    /** The daemon's attach transport, made when the first scope = system service is served. */
    private SystemTransport system;

    TransportRegistry(TransportContext context) {
        this(context, discover());
    }

    TransportRegistry(TransportContext context, List<TransportProvider> found) {
        this.context = context;
        this.providers = new TreeMap<>();
        for (TransportProvider p : found) {
            TransportProvider earlier = providers.putIfAbsent(p.scheme(), p);
            if (earlier != null) {
                throw new IllegalStateException("two transports for scheme '" + p.scheme() + "': "
                        + earlier.getClass().getName() + " and " + p.getClass().getName()
                        + "; remove one of their jars from the class path");
            }
        }
    }

    private static List<TransportProvider> discover() {
        List<TransportProvider> found = new ArrayList<>();
        Iterator<TransportProvider> it = ServiceLoader.load(TransportProvider.class, TransportRegistry.class.getClassLoader()).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                found.add(it.next());
            } catch (ServiceConfigurationError e) {
                // A broken jar must not take the working transports down with it.
                log.warn("skipping a transport that failed to load: {}", e.getMessage());
            }
        }
        return found;
    }

    /** The installed schemes, sorted. */
    synchronized List<String> schemes() {
        return new ArrayList<>(providers.keySet());
    }

    /**
     * The transport for an endpoint's scheme, created on first use.
     *
     * @throws ManComException NO_TRANSPORT naming the scheme, the module that provides it, and the
     *                         installed schemes
     */
    synchronized Transport forEndPoint(EndPoint endpoint, String service) throws ManComException {
        String scheme = endpoint.type().scheme();
        Transport t = transports.get(scheme);
        if (t != null) {
            return t;
        }
        TransportProvider p = providers.get(scheme);
        if (p == null) {
            throw new ManComException(ManComException.Reason.NO_TRANSPORT,
                    "no transport installed for scheme '" + scheme + "' (service '" + service + "', endpoint "
                            + endpoint + "): add the io.mancom:mancom-" + scheme + " jar to the class path; "
                            + "installed transports: " + (providers.isEmpty() ? "none" : String.join(", ", providers.keySet())));
        }
        t = p.create(context);
        transports.put(scheme, t);
        return t;
    }

    /**
     * The transport that serves {@code service}'s own endpoint: the daemon's attach transport for
     * {@code scope = system}, else the endpoint's scheme's.
     *
     * @throws ManComException NO_TRANSPORT as {@link #forEndPoint}
     */
    synchronized Transport forService(ServiceSettings service) throws ManComException {
        if (!ScopeSettings.of(service).isSystem()) {
            return forEndPoint(service.endpoint(), service.name());
        }
        if (system == null) {
            system = new SystemTransport(context.unwrap(NettyRuntime.class),
                    DaemonSettings.of(context.unwrap(RuntimeSettings.class)));
        }
        return system;
    }

    @Override
    public synchronized void close() {
        if (system != null) {
            system.close();
            system = null;
        }
        for (Transport t : transports.values()) {
            try {
                t.close();
            } catch (RuntimeException e) {
                log.warn("closing the {} transport failed", t, e);
            }
        }
        transports.clear();
    }
}
