package io.mancom;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a runtime is doing: its process, its services and its open channels, as
 * {@link ManCom#status()} returns it. The same snapshot is served as JSON on the runtime's control
 * socket ({@code GET /status}).
 *
 * <p>An immutable value, safe to share between threads. Channels that closed are not listed;
 * their counts stay in their service's totals.
 *
 * @param pid         the process id
 * @param processName the program: the main class or jar of a JVM, the executable otherwise
 * @param startedAt   when the runtime started
 * @param takenAt     when this snapshot was taken
 * @param services    every configured service, sorted by name
 * @param channels    every open channel, by id
 */
public record ManComStatus(long pid, String processName, Instant startedAt, Instant takenAt,
                           List<ServiceStatus> services, List<ChannelStatus> channels) {

    public ManComStatus {
        Objects.requireNonNull(processName, "processName");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(takenAt, "takenAt");
        services = List.copyOf(services);
        channels = List.copyOf(channels);
    }

    /** The status of one service, or empty if no such service is configured. */
    public Optional<ServiceStatus> service(String name) {
        return services.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** The open channel with this id ({@link Connection#id()} for a connection), or empty. */
    public Optional<ChannelStatus> channel(long id) {
        return channels.stream().filter(c -> c.id() == id).findFirst();
    }

    /** The open channels of one service, by id. */
    public List<ChannelStatus> channelsOf(String service) {
        return channels.stream().filter(c -> c.service().equals(service)).toList();
    }
}
