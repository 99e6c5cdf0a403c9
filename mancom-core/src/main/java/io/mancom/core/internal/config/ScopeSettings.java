package io.mancom.core.internal.config;

import com.typesafe.config.ConfigValueFactory;
import io.mancom.ServiceStatus;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Who owns a service's endpoint, and what the system daemon allows and holds for it: the
 * {@code scope}, {@code allow} and {@code hold} keys of a service (docs/daemon.md). An immutable
 * value.
 *
 * @param scope           {@code scope}: {@link ServiceStatus.Scope#PROCESS} (the runtime binds and
 *                        opens the endpoint) or {@link ServiceStatus.Scope#SYSTEM} (the daemon does)
 * @param users           {@code allow.users}: user names or numbers that may register the service
 * @param groups          {@code allow.groups}: group names or numbers that may register it
 * @param holdConnections {@code hold.connections}: connections the daemon holds at once while no
 *                        process takes them
 * @param holdTimeout     {@code hold.timeout}: how long the daemon holds one connection
 */
public record ScopeSettings(ServiceStatus.Scope scope, List<String> users, List<String> groups, int holdConnections,
                            Duration holdTimeout) {
    static final String SCOPE = "scope";
    static final List<String> SCOPES = List.of("process", "system");
    private static final Duration MAX_HOLD = Duration.ofDays(1);

    public ScopeSettings {
        Objects.requireNonNull(scope, "scope");
        users = List.copyOf(users);
        groups = List.copyOf(groups);
        Objects.requireNonNull(holdTimeout, "holdTimeout");
    }

    /** Whether the daemon owns the endpoint. */
    public boolean isSystem() {
        return scope == ServiceStatus.Scope.SYSTEM;
    }

    /** Whether {@code allow} names nobody: only the daemon's own user and root may register. */
    public boolean allowsOwnerOnly() {
        return users.isEmpty() && groups.isEmpty();
    }

    /**
     * Reads the keys from a service's block (or {@code mancom.defaults}).
     *
     * @throws io.mancom.ConfigException naming the file, line and key of a bad value
     */
    public static ScopeSettings from(Settings service) {
        String scope = service.getEnum(SCOPE, SCOPES);
        Settings allow = service.block("allow");
        Settings hold = service.block("hold");
        return new ScopeSettings(scope.equals("system") ? ServiceStatus.Scope.SYSTEM : ServiceStatus.Scope.PROCESS,
                allow.getStringList("users"), allow.getStringList("groups"),
                hold.getInt("connections", 1, 1 << 20), hold.getDuration("timeout", Duration.ofMillis(1), MAX_HOLD));
    }

    /** The settings of a loaded service (validated already by the loader). */
    public static ScopeSettings of(ServiceSettings service) {
        return from(Settings.of(service));
    }

    /**
     * The same service with {@code scope = process}: what the daemon itself runs (it owns the
     * endpoint, so its own runtime must bind it rather than attach to itself).
     */
    public static ServiceSettings ownedHere(ServiceSettings s) {
        return new ServiceSettings(s.name(), s.endpoint(), s.handler(), s.connectTimeout(), s.writeBuffer(),
                s.blocking(), s.reconnect(), s.config().withValue(SCOPE, ConfigValueFactory.fromAnyRef("process")));
    }
}
