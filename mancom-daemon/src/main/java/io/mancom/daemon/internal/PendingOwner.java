package io.mancom.daemon.internal;

import io.mancom.EndPoint;
import io.mancom.core.spi.ServiceSettings;
import io.netty.channel.Channel;

import java.util.List;

/**
 * Stands for an owner the daemon cannot run: every attach is refused with {@code 503 NOT_READY}
 * and the reason, and the service still shows in the status. Holds nothing. Thread-safe.
 */
final class PendingOwner implements Owner {
    private final List<ServiceSettings> services;
    private final String why;

    PendingOwner(List<ServiceSettings> services, String why) {
        this.services = List.copyOf(services);
        this.why = why;
    }

    @Override
    public String carry() {
        return "mux";
    }

    @Override
    public boolean serves(String service) {
        return services.stream().anyMatch(s -> s.name().equals(service));
    }

    @Override
    public EndPoint endpoint(String service) {
        return services.stream().filter(s -> s.name().equals(service)).findFirst().orElseThrow().endpoint();
    }

    @Override
    public String notReady(String service) {
        return why;
    }

    @Override
    public void attach(String service, Channel connection, Peer peer) {
        // the route refuses before this (notReady is never null); a late call just ends the attach
        connection.close();
    }

    @Override
    public OwnerStatus status(String service) {
        return new OwnerStatus(0, 0, 0, 0);
    }

    @Override
    public void close() {
        // nothing was opened
    }
}
