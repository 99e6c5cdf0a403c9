package io.mancom.core.internal.link;

import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.SerialAddress;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code link} block of a service: what runs between the transport's bytes and everything
 * above them (the mux, framing, the connection). {@code link = plain} (the default) is the
 * transport's byte stream as it is; {@code link = reliable} puts the reliable link layer
 * ({@code docs/reliable-link.md}) under it:
 *
 * <pre>
 * link = reliable
 * link { mode = reliable, frame-size = 1024, window = auto, rto-min = 100ms, rto-max = 3s,
 *        keepalive = 1s, timeout = 5s, resume-timeout = 10s }
 * </pre>
 *
 * <p>An immutable value; thread-safe. {@link #from} throws a {@link ConfigException} naming the
 * file, line and key of an invalid value.
 *
 * @param reliable      {@code mode = reliable}
 * @param frameSize     {@code frame-size}: the most payload bytes one frame carries (the handshake takes the smaller of both sides')
 * @param window        {@code window}: frames in flight, and frames buffered out of order; 0 = auto
 *                      (from the baud of a serial endpoint, else 256)
 * @param rtoMin        {@code rto-min}: the shortest retransmission timeout
 * @param rtoMax        {@code rto-max}: the longest retransmission timeout (after backing off)
 * @param keepalive     {@code keepalive}: an ACK is sent after this long without sending anything
 * @param timeout       {@code timeout}: the link below is given up after this long without a
 *                      valid frame (and a handshake that takes longer fails)
 * @param resumeTimeout {@code resume-timeout}: how long a session waits for a new link below
 *                      (a reopened device, a redialled socket) before it ends with "link lost"
 * @param lineRate      {@code line-rate}: bytes per second the sender paces new frames at; 0 = auto
 *                      (a serial endpoint's baud / 10, else unpaced)
 */
public record LinkSettings(boolean reliable, int frameSize, int window, Duration rtoMin, Duration rtoMax,
                           Duration keepalive, Duration timeout, Duration resumeTimeout, long lineRate) {

    /** The keys of a {@code link} block. */
    public static final List<String> KEYS = List.of("mode", "frame-size", "window", "rto-min", "rto-max",
            "keepalive", "timeout", "resume-timeout", "line-rate");
    /** The largest window: half the 16-bit sequence space, as selective repeat needs. */
    public static final int MAX_WINDOW = 16384;
    /** The largest frame payload. */
    public static final int MAX_FRAME_SIZE = 16384;
    /** The smallest {@code link.frame-size}. */
    public static final int MIN_FRAME_SIZE = 16;
    /** The built-in defaults (plain). */
    public static final LinkSettings DEFAULTS = new LinkSettings(false, 1024, 0, Duration.ofMillis(100),
            Duration.ofSeconds(3), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(10), 0);

    public LinkSettings {
        if (frameSize < MIN_FRAME_SIZE || frameSize > MAX_FRAME_SIZE) {
            throw new IllegalArgumentException("frameSize not in " + MIN_FRAME_SIZE + ".." + MAX_FRAME_SIZE + ": " + frameSize);
        }
        if (window < 0 || window > MAX_WINDOW) {
            throw new IllegalArgumentException("window not in 0.." + MAX_WINDOW + ": " + window);
        }
        Objects.requireNonNull(rtoMin, "rtoMin");
        Objects.requireNonNull(rtoMax, "rtoMax");
        Objects.requireNonNull(keepalive, "keepalive");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(resumeTimeout, "resumeTimeout");
        if (rtoMax.compareTo(rtoMin) < 0) {
            throw new IllegalArgumentException("rtoMax < rtoMin: " + rtoMax + " < " + rtoMin);
        }
        if (timeout.compareTo(keepalive) <= 0) {
            throw new IllegalArgumentException("timeout <= keepalive: " + timeout + " <= " + keepalive);
        }
    }

    /** A copy with another mode. */
    public LinkSettings withReliable(boolean on) {
        return new LinkSettings(on, frameSize, window, rtoMin, rtoMax, keepalive, timeout, resumeTimeout, lineRate);
    }

    /** A copy with another window (0 = auto). */
    public LinkSettings withWindow(int frames) {
        return new LinkSettings(reliable, frameSize, frames, rtoMin, rtoMax, keepalive, timeout, resumeTimeout, lineRate);
    }

    /** A copy with other timers. */
    public LinkSettings withTimers(Duration keepalive, Duration timeout, Duration resumeTimeout) {
        return new LinkSettings(reliable, frameSize, window, rtoMin, rtoMax, keepalive, timeout, resumeTimeout, lineRate);
    }

    /**
     * The window in frames for a link to {@code endpoint}: the configured one, or for a serial line
     * the frames of half a second of line time (the line's bandwidth-delay product with room for
     * the queues of a relay or a USB adapter), at least 8; 256 for anything else.
     */
    public int windowFor(EndPoint endpoint) {
        if (window > 0) {
            return window;
        }
        if (endpoint != null && endpoint.address() instanceof SerialAddress serial) {
            long bytesPerHalfSecond = serial.baud() / 10L / 2;
            // Counted in frames of 128 bytes at most: a noisy line's frames shrink (FrameSizer).
            return (int) Math.max(8, Math.min(1024, bytesPerHalfSecond / Math.min(frameSize, 128) + 1));
        }
        return 256;
    }

    /**
     * Bytes per second new frames are paced at on a link to {@code endpoint}, or 0 for no pacing:
     * the configured rate, else a serial line's baud / 10 (8N1 and its start bit: an upper bound).
     * Pacing keeps the queues below the session (the driver's, a relay's) short, so a frame sent
     * again does not wait behind a window of new ones.
     */
    public long lineRateFor(EndPoint endpoint) {
        if (lineRate > 0) {
            return lineRate;
        }
        return endpoint != null && endpoint.address() instanceof SerialAddress serial ? serial.baud() / 10L : 0;
    }

    /** The service's {@code link} block. */
    public static LinkSettings of(ServiceSettings service) {
        return from(Settings.of(service));
    }

    /**
     * Reads the {@code link} entry of a service's block: absent means {@link #DEFAULTS}; a word
     * ({@code link = reliable}, {@code link = plain}) or a block, whose missing keys take their
     * defaults.
     *
     * @throws ConfigException naming file, line and key if a value is invalid or a key unknown
     */
    public static LinkSettings from(Settings service) {
        if (!service.hasPath("link")) {
            return DEFAULTS;
        }
        Settings link = service.block("link");
        link.requireKnownKeys(KEYS);
        boolean reliable = link.hasPath("mode") ? link.getEnum("mode", List.of("plain", "reliable")).equals("reliable")
                : DEFAULTS.reliable;
        int frameSize = link.hasPath("frame-size") ? link.getIntBytes("frame-size", MIN_FRAME_SIZE, MAX_FRAME_SIZE) : DEFAULTS.frameSize;
        int window = DEFAULTS.window;
        if (link.hasPath("window")) {
            Object raw = link.config().getValue("window").unwrapped();
            window = raw instanceof String str && str.trim().equalsIgnoreCase("auto") ? 0 : link.getInt("window", 1, MAX_WINDOW);
        }
        Duration rtoMin = duration(link, "rto-min", DEFAULTS.rtoMin, Duration.ofMillis(1));
        Duration rtoMax = duration(link, "rto-max", DEFAULTS.rtoMax, Duration.ofMillis(1));
        Duration keepalive = duration(link, "keepalive", DEFAULTS.keepalive, Duration.ofMillis(10));
        Duration timeout = duration(link, "timeout", DEFAULTS.timeout, Duration.ofMillis(20));
        Duration resume = duration(link, "resume-timeout", DEFAULTS.resumeTimeout, Duration.ZERO);
        if (rtoMax.compareTo(rtoMin) < 0) {
            throw link.error("rto-max", "rto-max (" + rtoMax.toMillis() + " ms) must be at least rto-min ("
                    + rtoMin.toMillis() + " ms)");
        }
        if (timeout.compareTo(keepalive) <= 0) {
            throw link.error("timeout", "timeout (" + timeout.toMillis() + " ms) must be longer than keepalive ("
                    + keepalive.toMillis() + " ms), or a quiet but healthy link would be given up");
        }
        long lineRate = 0;
        if (link.hasPath("line-rate")) {
            Object raw = link.config().getValue("line-rate").unwrapped();
            lineRate = raw instanceof String str && str.trim().equalsIgnoreCase("auto") ? 0
                    : link.getBytes("line-rate", 1, 1L << 40);
        }
        return new LinkSettings(reliable, frameSize, window, rtoMin, rtoMax, keepalive, timeout, resume, lineRate);
    }

    private static Duration duration(Settings link, String key, Duration dflt, Duration min) {
        return link.hasPath(key) ? link.getDuration(key, min, Duration.ofHours(1)) : dflt;
    }
}
