package io.mancom.core.spi;

import com.typesafe.config.Config;
import io.mancom.EndPoint;

import java.time.Duration;
import java.util.Objects;

/**
 * The validated settings of one service: its entry under {@code mancom.services}, with
 * {@code mancom.defaults} filled in for whatever it leaves out.
 *
 * @param name           the service name (the key under {@code mancom.services})
 * @param endpoint       the parsed {@code endpoint}
 * @param handler        the built-in handler {@code mancom serve} uses: {@code echo} or {@code discard}
 * @param connectTimeout {@code connect-timeout}: how long a client connect may take
 * @param writeBuffer    {@code write-buffer}: the write queue's marks and hard limit
 * @param blocking       {@code blocking}: the blocking API's buffers
 * @param reconnect      {@code reconnect}: how device transports reopen a lost device
 * @param config         the service's whole block with defaults applied, for transport- and
 *                       mux-specific keys (read them through {@link Settings} so errors name
 *                       the file and line)
 */
public record ServiceSettings(String name, EndPoint endpoint, String handler, Duration connectTimeout,
                              WriteBuffer writeBuffer, Blocking blocking, Reconnect reconnect, Config config) {

    public ServiceSettings {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(writeBuffer, "writeBuffer");
        Objects.requireNonNull(blocking, "blocking");
        Objects.requireNonNull(reconnect, "reconnect");
        Objects.requireNonNull(config, "config");
    }

    /**
     * Whether clients this runtime dials for the service (TCP) dial again when their link is lost:
     * {@code reconnect.enabled} is on and set by a config layer (a file, a system property, the
     * overrides; for the service or in {@code mancom.defaults}), not only by a reference.conf. The
     * built-in default is on for the devices a service opens, but a TCP client that redials
     * unasked would surprise: it is on only when someone wrote it.
     */
    public boolean reconnectsClients() {
        if (!reconnect.enabled() || !config.hasPath("reconnect.enabled")) {
            return false;
        }
        return config.getValue("reconnect.enabled").origin().resource() == null;
    }

    /**
     * @param lowWater   {@code low-water}: the queue size under which a connection is writable again
     * @param highWater  {@code high-water}: the queue size over which a connection is unwritable and
     *                   stops reading
     * @param maxPending {@code max-pending}: the hard limit; a write past it fails
     */
    public record WriteBuffer(int lowWater, int highWater, long maxPending) {
    }

    /**
     * @param readBuffer    {@code read-buffer}: bytes a blocking connection buffers before the link
     *                      stops reading
     * @param acceptBacklog {@code accept-backlog}: connections that may wait for {@code accept}
     */
    public record Blocking(int readBuffer, int acceptBacklog) {
    }

    /**
     * @param enabled      {@code enabled}: reopen a lost device
     * @param initialDelay {@code initial-delay}: the first wait before reopening
     * @param maxDelay     {@code max-delay}: the longest wait (the delay doubles up to it)
     */
    public record Reconnect(boolean enabled, Duration initialDelay, Duration maxDelay) {
    }
}
