package io.mancom.core.spi;

import java.util.Locale;

/**
 * Why a connection (or a mux stream) was turned away before it became a connection the
 * application sees. Counted per service in monitoring ({@code refused} in {@code /status},
 * {@code mancom_refused_total{service,cause}} in {@code /metrics}) through
 * {@link ChannelSink#refused}.
 */
public enum Refusal {
    /** One past {@code tcp.max-connections}. */
    MAX_CONNECTIONS,
    /** One past {@code tcp.max-connections-per-peer} from the same address. */
    MAX_CONNECTIONS_PER_PEER,
    /** The peer is not let in by {@code tcp.allow} / {@code tcp.deny} (the check after accept). */
    DENIED,
    /** Accepting failed for want of file descriptors; accepting paused (counted once per failure). */
    NO_DESCRIPTORS,
    /** A mux stream that did not name its service within {@code mux.open-timeout}. */
    OPEN_TIMEOUT;

    /** The name in monitoring and in config keys: lower case, {@code -} for {@code _}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
