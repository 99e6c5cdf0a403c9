package io.mancom.core.internal.monitor;

import io.mancom.EndPoint;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.Refusal;
import io.mancom.core.internal.mux.MuxStreamChannel;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The totals of one service: its live channels, plus what its closed channels left behind.
 *
 * <p>Nothing here is written on the hot path: bytes stay in each channel's {@link ChannelStats}
 * until it closes, when they move into this object's closed totals. {@link #totals()} sums the
 * live channels and the closed totals under this object's lock, and a channel moves under the
 * same lock, so a total never goes down (a scrape never sees a channel's bytes twice or not at
 * all). Thread-safe.
 */
final class ServiceStats {
    final String name;
    final EndPoint endpoint;
    private final LiveChannels live = new LiveChannels(); // guarded by this
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong reconnects = new AtomicLong();
    private final Map<Reason, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<Refusal, LongAdder> refused = new ConcurrentHashMap<>();
    // Guarded by this.
    private long closedIn;
    private long closedOut;

    ServiceStats(String name, EndPoint endpoint) {
        this.name = name;
        this.endpoint = endpoint;
    }

    synchronized void opened(ChannelStats c, boolean accepted) {
        live.add(c);
        if (accepted) {
            this.accepted.incrementAndGet();
        }
    }

    /** Moves a closed channel's counts into the closed totals: false if it was not live here. On the channel's loop. */
    synchronized boolean closed(ChannelStats c) {
        if (live.remove(c)) {
            closedIn += c.bytesIn();
            closedOut += c.bytesOut();
            return true;
        }
        return false;
    }

    void error(Reason reason) {
        errors.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    void refused(Refusal why) {
        refused.computeIfAbsent(why, r -> new LongAdder()).increment();
    }

    /** Connections turned away before they became connections, by cause; causes that never happened are absent. */
    Map<String, Long> refusals() {
        Map<String, Long> m = new java.util.TreeMap<>();
        refused.forEach((r, n) -> m.put(r.label(), n.sum()));
        return m;
    }

    void reconnected() {
        reconnects.incrementAndGet();
    }

    /** The channels open now. */
    synchronized List<ChannelStats> live() {
        return live.list();
    }

    /** Every total at once. */
    synchronized Totals totals() {
        long in = closedIn;
        long out = closedOut;
        long queued = 0;
        int open = 0;
        int streams = 0;
        for (ChannelStats c = live.head(); c != null; c = c.next) {
            in += c.bytesIn();
            out += c.bytesOut();
            queued += Math.max(0, c.queuedBytes());
            open++;
            if (c.countedChannel() instanceof MuxStreamChannel) {
                streams++;
            }
        }
        Map<Reason, Long> e = new EnumMap<>(Reason.class);
        errors.forEach((r, n) -> e.put(r, n.sum()));
        return new Totals(open, streams, accepted.get(), in, out, queued, e, reconnects.get());
    }

    /** A service's figures at one moment. */
    record Totals(int open, int streams, long accepted, long bytesIn, long bytesOut, long queued,
                  Map<Reason, Long> errors, long reconnects) {
    }
}
