package io.mancom.core.spi;

import io.mancom.ConfigException;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code tcp} block of one service: socket options, limits, timeouts and the peers let in.
 * The loader validates it for every service (so {@code mancom config check} reports a bad value
 * with its file and line), and the TCP transport reads it with {@link #of(ServiceSettings)}.
 *
 * <pre>
 * tcp {
 *   backlog = 1024                  # the kernel's queue of connections not accepted yet
 *   no-delay = on                   # TCP_NODELAY
 *   keep-alive = off                # SO_KEEPALIVE
 *   max-connections = 0             # served at once; 0 = no limit
 *   max-connections-per-peer = 0    # served at once from one address; 0 = no limit
 *   idle-timeout = off              # close after this long with no byte either way
 *   read-timeout = off              # close after this long with no byte received
 *   allow = []                      # address blocks let in; [] = all
 *   deny = []                       # address blocks refused (wins over allow)
 * }
 * </pre>
 *
 * <p>An immutable value; thread-safe. {@link #from} throws {@link ConfigException} naming the
 * file, line and key of a bad value or unknown key.
 *
 * @param backlog               {@code backlog}: the listen queue
 * @param noDelay               {@code no-delay}
 * @param keepAlive             {@code keep-alive}
 * @param maxConnections        {@code max-connections}; 0 = no limit
 * @param maxConnectionsPerPeer {@code max-connections-per-peer}; 0 = no limit
 * @param idleTimeout           {@code idle-timeout}; {@link Duration#ZERO} = off
 * @param readTimeout           {@code read-timeout}; {@link Duration#ZERO} = off
 * @param allow                 {@code allow}; empty = every peer
 * @param deny                  {@code deny}
 */
public record TcpSettings(int backlog, boolean noDelay, boolean keepAlive, int maxConnections,
                          int maxConnectionsPerPeer, Duration idleTimeout, Duration readTimeout,
                          List<AddressBlock> allow, List<AddressBlock> deny) {

    /** The keys a {@code tcp} block may contain. */
    public static final List<String> KEYS = List.of("backlog", "no-delay", "keep-alive", "max-connections",
            "max-connections-per-peer", "idle-timeout", "read-timeout", "allow", "deny");

    private static final Duration MAX_TIMEOUT = Duration.ofDays(365);

    public TcpSettings {
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        allow = List.copyOf(allow);
        deny = List.copyOf(deny);
    }

    /** The tcp block of a loaded service. */
    public static TcpSettings of(ServiceSettings service) {
        return from(Settings.of(service));
    }

    /**
     * Reads and checks the {@code tcp} block of a service (or of {@code mancom.defaults}).
     *
     * @throws ConfigException for the first problem, each further one attached as suppressed
     */
    public static TcpSettings from(Settings service) {
        Settings tcp = service.block("tcp");
        tcp.requireKnownKeys(KEYS);
        return new TcpSettings(tcp.getInt("backlog", 1, 65535), tcp.getBoolean("no-delay"),
                tcp.getBoolean("keep-alive"), tcp.getInt("max-connections", 0, Integer.MAX_VALUE),
                tcp.getInt("max-connections-per-peer", 0, Integer.MAX_VALUE), durationOrOff(tcp, "idle-timeout"),
                durationOrOff(tcp, "read-timeout"), blocks(tcp, "allow"), blocks(tcp, "deny"));
    }

    /**
     * Checks the values of the keys this release added to the {@code tcp} block (limits, timeouts,
     * allow/deny) as the loader reads a service, so that {@code mancom config check} reports them
     * with file and line. The block's other keys, and unknown keys, stay the transport's to check
     * when it binds (the loader checks other modules' blocks only by their name).
     *
     * @throws ConfigException for the first bad value
     */
    public static void checkAtLoad(Settings service) {
        if (!service.hasPath("tcp")) {
            return;
        }
        Settings tcp = service.block("tcp");
        for (String key : List.of("max-connections", "max-connections-per-peer")) {
            if (tcp.hasPath(key)) {
                tcp.getInt(key, 0, Integer.MAX_VALUE);
            }
        }
        for (String key : List.of("idle-timeout", "read-timeout")) {
            if (tcp.hasPath(key)) {
                durationOrOff(tcp, key);
            }
        }
        for (String key : List.of("allow", "deny")) {
            if (tcp.hasPath(key)) {
                blocks(tcp, key);
            }
        }
    }

    /** Whether {@code allow} or {@code deny} says anything. */
    public boolean filtersPeers() {
        return !allow.isEmpty() || !deny.isEmpty();
    }

    /** Whether a peer at {@code address} is let in: in no {@code deny} block, and in an {@code allow} block if there are any. */
    public boolean admits(InetAddress address) {
        for (AddressBlock b : deny) {
            if (b.contains(address)) {
                return false;
            }
        }
        if (allow.isEmpty()) {
            return true;
        }
        for (AddressBlock b : allow) {
            if (b.contains(address)) {
                return true;
            }
        }
        return false;
    }

    private static List<AddressBlock> blocks(Settings tcp, String key) {
        if (tcp.hasPath(key) && tcp.config().getValue(key).valueType() != com.typesafe.config.ConfigValueType.LIST) {
            throw tcp.error(key, "found " + tcp.config().getValue(key).render() + " but expected a list of address "
                    + "blocks such as [\"127.0.0.1/32\", \"10.0.0.0/8\", \"::1/128\"]");
        }
        List<String> texts = tcp.getStringList(key);
        List<AddressBlock> out = new ArrayList<>();
        for (String t : texts) {
            try {
                out.add(AddressBlock.parse(t));
            } catch (IllegalArgumentException e) {
                throw tcp.error(key, "found \"" + t + "\" but expected an address block such as \"10.0.0.0/8\", "
                        + "\"127.0.0.1/32\" or \"::1/128\": " + e.getMessage());
            }
        }
        return out;
    }

    /** A duration, or {@code off} (also {@code false}, {@code no}) for zero. */
    static Duration durationOrOff(Settings block, String key) {
        Object raw = block.config().getValue(key).unwrapped();
        if (raw instanceof Boolean b && !b
                || raw instanceof String s && List.of("off", "false", "no").contains(s.trim().toLowerCase(Locale.ROOT))) {
            return Duration.ZERO;
        }
        return block.getDuration(key, Duration.ofMillis(1), MAX_TIMEOUT);
    }
}
