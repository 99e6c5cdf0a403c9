package io.mancom.proxy.internal;

import io.mancom.proxy.ProxyStats;

import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's counters: incremented from any event loop (client loops and the upstream's),
 * read as a {@link ProxyStats} snapshot. The gauges (queued, in flight, open) are the pool's.
 */
public final class Counters {
    final LongAdder requests = new LongAdder();
    final LongAdder responses = new LongAdder();
    final LongAdder badGateway = new LongAdder();
    final LongAdder unavailable = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder abandoned = new LongAdder();
    final LongAdder upstreamConnects = new LongAdder();
    final LongAdder upstreamLosses = new LongAdder();
    final LongAdder dialFailures = new LongAdder();

    /** A snapshot with the pool's current gauges. */
    ProxyStats snapshot(int queued, int inFlight, int upstreamOpen) {
        return new ProxyStats(requests.sum(), responses.sum(), badGateway.sum(), unavailable.sum(), timeouts.sum(),
                rejected.sum(), retries.sum(), abandoned.sum(), upstreamConnects.sum(), upstreamLosses.sum(),
                dialFailures.sum(), queued, inFlight, upstreamOpen);
    }
}
