package io.mancom.core.internal.mux;

import io.mancom.ConfigException;
import io.mancom.core.internal.config.SizeLimits;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The {@code mux} settings of one service: whether its links carry a mux session, and the
 * session's limits. Read from the service's config block with {@link #of(ServiceSettings)};
 * {@code mux = on} is short for {@code mux { enabled = on }} with every other key at its default.
 *
 * <pre>
 * mux {
 *   enabled = off              # carry this service as a stream of a multiplexed link
 *   routing = service          # service: a name preamble opens each stream; none: plain gomux
 *   role = auto                # auto | initiator | responder (symmetric links only; TCP: dialer = initiator)
 *   max-streams = 256          # open streams per link, both directions
 *   accept-backlog = 64        # inbound streams still waiting for their service preamble
 *   max-window = 1MiB          # the largest receive window one stream may grow to
 *   stream-window = 64KiB      # the receive window each stream is granted as it opens (up to max-window)
 *   receive-buffer = 16MiB     # windows (so buffered unread bytes) of all streams, above 64KiB each
 *   keepalive-interval = 30s   # send a Keepalive after this long without writing; off = never
 *   idle-timeout = off         # end the session after this long without reading anything
 *   open-timeout = 10s         # refuse an inbound stream that has not named its service by then
 * }
 * </pre>
 *
 * <p>An immutable value; thread-safe. Invalid values are rejected by the constructor with an
 * {@link IllegalArgumentException} naming the field and value, and by {@link #of} with a
 * {@link ConfigException} naming the file, line and key.
 *
 * @param enabled           {@code enabled}: the service's links carry a mux session
 * @param routing           {@code routing}: how streams find their service
 * @param role              {@code role}: which side opens even stream ids
 * @param maxStreams        {@code max-streams}: open streams per session, both directions; an
 *                          OpenStream past it is refused with CloseStream
 * @param acceptBacklog     {@code accept-backlog}: inbound streams waiting for their service
 *                          preamble; an OpenStream past it is refused with CloseStream
 * @param maxWindow         {@code max-window}: the largest receive window a stream grows to
 *                          (at least 65536, the protocol's initial window)
 * @param streamWindow      {@code stream-window}: the receive window granted to each stream as it
 *                          opens (a WindowUpdate right after the OpenStream, sent or received),
 *                          capped by {@code max-window} and the {@code receive-buffer} budget;
 *                          65536, the protocol's initial window, sends no update
 * @param receiveBuffer     {@code receive-buffer}: windows above the initial 65536 per stream are
 *                          granted only while the sum of all receive windows of the session
 *                          (which bounds its buffered, unread data) stays under this
 * @param keepaliveInterval {@code keepalive-interval}: a Keepalive is sent after this long without
 *                          writing anything; {@link Duration#ZERO} never sends one
 * @param idleTimeout       {@code idle-timeout}: the session ends with "peer silent for ..." after
 *                          this long without reading anything; {@link Duration#ZERO} is off
 * @param openTimeout       {@code open-timeout}: an inbound stream that has not named its service
 *                          after this long ({@code routing = service}) is refused with CloseStream
 */
public record MuxSettings(boolean enabled, Routing routing, Role role, int maxStreams, int acceptBacklog,
                          int maxWindow, int streamWindow, long receiveBuffer, Duration keepaliveInterval, Duration idleTimeout,
                          Duration openTimeout) {

    /** How an inbound stream finds its service. */
    public enum Routing {
        /** The opener's first bytes name the service: one byte n, then n bytes of UTF-8. */
        SERVICE,
        /** No preamble: every stream belongs to the link's one service (plain gomux peers). */
        NONE
    }

    /** Which side opens even stream ids. */
    public enum Role {
        /** Decided with the peer by the Hello tie-breaker (both sides ManCom, symmetric links). */
        AUTO,
        /** Opens even ids 0, 2, 4, ... (on TCP: the side that dialed). */
        INITIATOR,
        /** Opens odd ids 1, 3, 5, ... (on TCP: the side that accepted). */
        RESPONDER
    }

    /** The protocol's initial window, the least {@code max-window} may be. */
    public static final int INITIAL_WINDOW = MuxFrame.MAX_DATA;
    /** The largest {@code max-window}: 1 GiB. */
    public static final int MAX_WINDOW_LIMIT = 1 << 30;

    /** Every key of the {@code mux} block. */
    public static final List<String> KEYS = List.of("enabled", "routing", "role", "max-streams", "accept-backlog",
            "max-window", "stream-window", "receive-buffer", "keepalive-interval", "idle-timeout", "open-timeout");

    /** The defaults, as in {@code reference.conf}; {@code enabled} is false. */
    public static final MuxSettings DEFAULTS = new MuxSettings(false, Routing.SERVICE, Role.AUTO, 256, 64,
            1 << 20, INITIAL_WINDOW, 16L << 20, Duration.ofSeconds(30), Duration.ZERO, Duration.ofSeconds(10));

    public MuxSettings {
        Objects.requireNonNull(routing, "routing");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(keepaliveInterval, "keepaliveInterval");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if (maxStreams < 1) {
            throw new IllegalArgumentException("maxStreams < 1: " + maxStreams);
        }
        if (acceptBacklog < 1) {
            throw new IllegalArgumentException("acceptBacklog < 1: " + acceptBacklog);
        }
        if (maxWindow < INITIAL_WINDOW || maxWindow > MAX_WINDOW_LIMIT) {
            throw new IllegalArgumentException("maxWindow must be " + INITIAL_WINDOW + ".." + MAX_WINDOW_LIMIT + ": "
                    + maxWindow);
        }
        if (streamWindow < INITIAL_WINDOW || streamWindow > MAX_WINDOW_LIMIT) {
            throw new IllegalArgumentException("streamWindow must be " + INITIAL_WINDOW + ".." + MAX_WINDOW_LIMIT + ": "
                    + streamWindow);
        }
        if (receiveBuffer < INITIAL_WINDOW) {
            throw new IllegalArgumentException("receiveBuffer < " + INITIAL_WINDOW + ": " + receiveBuffer);
        }
        if (keepaliveInterval.isNegative()) {
            throw new IllegalArgumentException("keepaliveInterval < 0: " + keepaliveInterval);
        }
        if (idleTimeout.isNegative()) {
            throw new IllegalArgumentException("idleTimeout < 0: " + idleTimeout);
        }
        Objects.requireNonNull(openTimeout, "openTimeout");
        if (openTimeout.isNegative() || openTimeout.isZero()) {
            throw new IllegalArgumentException("openTimeout <= 0: " + openTimeout);
        }
    }

    /** A builder starting from these settings. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A builder starting from {@link #DEFAULTS}. */
    public static Builder builder() {
        return new Builder(DEFAULTS);
    }

    /** Whether {@link #idleTimeout()} is on. */
    public boolean idleTimeoutEnabled() {
        return !idleTimeout.isZero();
    }

    /** Whether Keepalives are sent. */
    public boolean keepaliveEnabled() {
        return !keepaliveInterval.isZero();
    }

    /**
     * The role a session on a link should take. On TCP (an asymmetric link) the side that dialed is
     * the initiator, whatever the config says; on a symmetric link (serial, USB) the configured
     * {@link #role()} applies, {@link Role#AUTO} included.
     *
     * @param symmetric whether the link is symmetric (serial, USB) rather than dialed (TCP)
     * @param dialed    on an asymmetric link, whether this side dialed
     */
    public Role roleFor(boolean symmetric, boolean dialed) {
        if (symmetric) {
            return role;
        }
        return dialed ? Role.INITIATOR : Role.RESPONDER;
    }

    /**
     * The {@code mux} settings of a service ({@code mancom.services.NAME.mux}).
     *
     * @throws ConfigException naming file, line and key if a value is invalid or a key unknown
     */
    public static MuxSettings of(ServiceSettings service) {
        return from(Settings.of(service));
    }

    /**
     * Reads the {@code mux} entry of a service's block: absent means {@link #DEFAULTS}; a bare
     * switch ({@code mux = on}) or a block, whose missing keys take their defaults.
     *
     * @param service the service's block, for example {@code Settings.of(runtime, "telemetry")}
     * @throws ConfigException naming file, line and key if a value is invalid or a key unknown
     */
    public static MuxSettings from(Settings service) {
        if (!service.hasPath("mux")) {
            return DEFAULTS;
        }
        Settings mux = service.switchBlock("mux");
        mux.requireKnownKeys(KEYS);
        Builder b = DEFAULTS.toBuilder();
        if (mux.hasPath("enabled")) {
            b.enabled(mux.getBoolean("enabled"));
        }
        if (mux.hasPath("routing")) {
            b.routing(mux.getEnum("routing", Routing.class));
        }
        if (mux.hasPath("role")) {
            b.role(mux.getEnum("role", Role.class));
        }
        if (mux.hasPath("max-streams")) {
            b.maxStreams(mux.getInt("max-streams", 1, SizeLimits.MAX_MUX_STREAMS));
        }
        if (mux.hasPath("accept-backlog")) {
            b.acceptBacklog(mux.getInt("accept-backlog", 1, SizeLimits.MAX_MUX_STREAMS));
        }
        if (mux.hasPath("max-window")) {
            b.maxWindow(mux.getIntBytes("max-window", INITIAL_WINDOW, MAX_WINDOW_LIMIT));
        }
        if (mux.hasPath("stream-window")) {
            b.streamWindow(mux.getIntBytes("stream-window", INITIAL_WINDOW, MAX_WINDOW_LIMIT));
        }
        if (mux.hasPath("receive-buffer")) {
            b.receiveBuffer(mux.getBytes("receive-buffer", INITIAL_WINDOW, SizeLimits.MAX_MUX_RECEIVE_BUFFER));
        }
        if (mux.hasPath("keepalive-interval")) {
            b.keepaliveInterval(durationOrOff(mux, "keepalive-interval"));
        }
        if (mux.hasPath("idle-timeout")) {
            b.idleTimeout(durationOrOff(mux, "idle-timeout"));
        }
        if (mux.hasPath("open-timeout")) {
            b.openTimeout(mux.getDuration("open-timeout", Duration.ofMillis(1), Duration.ofDays(1)));
        }
        return b.build();
    }

    /** A duration, or {@code off} (also {@code false}, {@code no}) for zero. */
    private static Duration durationOrOff(Settings mux, String key) {
        Object raw = mux.config().getValue(key).unwrapped();
        if (raw instanceof Boolean b && !b
                || raw instanceof String str && List.of("off", "false", "no").contains(str.trim().toLowerCase(Locale.ROOT))) {
            return Duration.ZERO;
        }
        return mux.getDuration(key, Duration.ZERO, Duration.ofDays(365));
    }

    /** Builds {@link MuxSettings}; validation happens in {@link #build()}. Not thread-safe. */
    public static final class Builder {
        private boolean enabled;
        private Routing routing;
        private Role role;
        private int maxStreams;
        private int acceptBacklog;
        private int maxWindow;
        private int streamWindow;
        private long receiveBuffer;
        private Duration keepaliveInterval;
        private Duration idleTimeout;
        private Duration openTimeout;

        private Builder(MuxSettings s) {
            enabled = s.enabled;
            routing = s.routing;
            role = s.role;
            maxStreams = s.maxStreams;
            acceptBacklog = s.acceptBacklog;
            maxWindow = s.maxWindow;
            streamWindow = s.streamWindow;
            receiveBuffer = s.receiveBuffer;
            keepaliveInterval = s.keepaliveInterval;
            idleTimeout = s.idleTimeout;
            openTimeout = s.openTimeout;
        }

        public Builder enabled(boolean v) {
            enabled = v;
            return this;
        }

        public Builder routing(Routing v) {
            routing = v;
            return this;
        }

        public Builder role(Role v) {
            role = v;
            return this;
        }

        public Builder maxStreams(int v) {
            maxStreams = v;
            return this;
        }

        public Builder acceptBacklog(int v) {
            acceptBacklog = v;
            return this;
        }

        public Builder maxWindow(int v) {
            maxWindow = v;
            return this;
        }

        public Builder streamWindow(int v) {
            streamWindow = v;
            return this;
        }

        public Builder receiveBuffer(long v) {
            receiveBuffer = v;
            return this;
        }

        public Builder keepaliveInterval(Duration v) {
            keepaliveInterval = v;
            return this;
        }

        public Builder idleTimeout(Duration v) {
            idleTimeout = v;
            return this;
        }

        public Builder openTimeout(Duration v) {
            openTimeout = v;
            return this;
        }

        /** @throws IllegalArgumentException naming the field and value, if one is invalid */
        public MuxSettings build() {
            return new MuxSettings(enabled, routing, role, maxStreams, acceptBacklog, maxWindow, streamWindow, receiveBuffer,
                    keepaliveInterval, idleTimeout, openTimeout);
        }
    }
}
