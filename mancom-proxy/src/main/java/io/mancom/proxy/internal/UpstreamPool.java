package io.mancom.proxy.internal;

import io.mancom.proxy.ProxyConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The upstream side of one proxy: its connections ({@link UpstreamLink}s), the bounded queue of
 * requests that wait for a free stream or connection, timeouts, and redialling with backoff.
 *
 * <h2>Threading</h2>
 * Everything here runs on one event loop, which is also the loop of every upstream connection
 * (so an HTTP/2 connection's streams and this state never need a lock). {@link #submit} and
 * {@link #close} may be called from any thread and hand over to that loop. The gauges are
 * volatile copies for {@link #gauges()}.
 *
 * <h2>Failures</h2>
 * A request gets exactly one answer: the upstream's response, or 503 (queue full), 504 (no whole
 * response within {@code upstream-timeout}, counted from its arrival; found by a sweep every
 * sixteenth of the timeout, 5 ms to 1 s) or 502 (the upstream could
 * not be reached or dropped it). While no connection is up and the last dial failed, new
 * requests get 502 at once rather than wait out a backoff; the queue is failed likewise then.
 * Requests the upstream provably did not process are sent again (at most {@link #MAX_ATTEMPTS}).
 */
public final class UpstreamPool {
    private static final Logger log = LoggerFactory.getLogger(UpstreamPool.class);
    // Retries are only of requests the upstream provably did not process, and the deadline bounds them
    // too; a peer that ends each connection after few requests (nginx keepalive_requests) may refuse
    // a request on several connections in a row while many are in flight.
    static final int MAX_ATTEMPTS = 16;
    static final long INITIAL_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final EventLoop loop;
    private final ProxyConfig config;
    private final Counters counters;
    private final Function<UpstreamPool, UpstreamLink> dialer;
    private final ByteBufAllocator alloc;

    private final ArrayDeque<Exchange> queue = new ArrayDeque<>();
    private final List<UpstreamLink> live = new ArrayList<>();      // ready and taking requests
    private final List<UpstreamLink> connected = new ArrayList<>(); // ready, draining or not
    private final boolean multiplexed;
    private int connecting;
    private int inFlight;
    private boolean down; // no connection and the last dial failed: fail fast until a dial succeeds
    private boolean closed;
    private long backoffNanos = INITIAL_BACKOFF_NANOS;
    private long nextDialNanos;
    private ScheduledFuture<?> redial;
    private ScheduledFuture<?> sweeper;
    // Live exchanges, oldest first: every one has the same timeout, so this is deadline order and
    // one periodic sweep finds the expired ones (no timer per request).
    private Exchange oldest;
    private Exchange newest;
    private String lastFailure = "not connected yet";

    private volatile int queuedGauge;
    private volatile int inFlightGauge;
    private volatile int openGauge;

    /**
     * @param dialer starts one connection for this pool and returns it (it reports back with
     *               {@code linkReady} or {@code linkLost}); runs on the loop
     */
    public UpstreamPool(EventLoop loop, ProxyConfig config, Counters counters, ByteBufAllocator alloc,
                        Function<UpstreamPool, UpstreamLink> dialer) {
        this.loop = loop;
        this.config = config;
        this.counters = counters;
        this.alloc = alloc;
        this.dialer = dialer;
        this.multiplexed = config.upstream().protocol().multiplexed();
    }

    EventLoop loop() {
        return loop;
    }

    ProxyConfig config() {
        return config;
    }

    Counters counters() {
        return counters;
    }

    /** Dials the first connection now, so the first request does not wait for it (HTTP/2). */
    public void start() {
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(5), Math.min(TimeUnit.SECONDS.toNanos(1),
                config.timeout().toNanos() / 16));
        loop.execute(() -> {
            sweeper = loop.scheduleAtFixedRate(this::sweep, period, period, TimeUnit.NANOSECONDS);
            dialIfNeeded();
        });
    }

    private void sweep() {
        long now = System.nanoTime();
        while (oldest != null && now - oldest.deadline >= 0) {
            timeout(oldest);
        }
    }

    private void track(Exchange x) {
        x.deadline = System.nanoTime() + config.timeout().toNanos();
        x.older = newest;
        if (newest != null) {
            newest.newer = x;
        } else {
            oldest = x;
        }
        newest = x;
    }

    private void untrack(Exchange x) {
        if (x.older != null) {
            x.older.newer = x.newer;
        } else if (oldest == x) {
            oldest = x.newer;
        }
        if (x.newer != null) {
            x.newer.older = x.older;
        } else if (newest == x) {
            newest = x.older;
        }
        x.older = null;
        x.newer = null;
    }

    /** {queued, in flight, upstream connections open}, as of the last change. */
    public int[] gauges() {
        return new int[]{queuedGauge, inFlightGauge, openGauge};
    }

    /** Takes a request from any thread; it will be answered exactly once through its session. */
    void submit(Exchange x) {
        if (loop.inEventLoop()) {
            accept(x);
        } else {
            loop.execute(() -> accept(x));
        }
    }

    private void accept(Exchange x) {
        if (closed) {
            fail(x, HttpResponseStatus.BAD_GATEWAY, "the proxy is closing");
        } else if (down) {
            fail(x, HttpResponseStatus.BAD_GATEWAY, "upstream " + config.upstream() + " unreachable: " + lastFailure);
        } else {
            track(x);
            UpstreamLink link = queue.isEmpty() ? freeLink() : null;
            if (link != null) {
                send(link, x);
            } else if (queue.size() < config.queue()) {
                queue.add(x);
                dialIfNeeded();
            } else {
                fail(x, HttpResponseStatus.SERVICE_UNAVAILABLE, "the proxy's queue of " + config.queue() + " requests is full");
            }
        }
        updateGauges();
    }

    /** Sends queued requests while a link has room; dials when none has and the limit allows. */
    void dispatch() {
        while (!queue.isEmpty()) {
            Exchange x = queue.peek();
            if (x.abandoned) {
                queue.poll();
                drop(x);
                continue;
            }
            UpstreamLink link = freeLink();
            if (link == null) {
                break;
            }
            queue.poll();
            send(link, x);
        }
        dialIfNeeded();
        updateGauges();
    }

    private void send(UpstreamLink link, Exchange x) {
        x.attempts++;
        inFlight++;
        link.send(x);
    }

    private UpstreamLink freeLink() {
        for (int i = 0, n = live.size(); i < n; i++) {
            UpstreamLink l = live.get(i);
            if (l.freeSlots() > 0) {
                return l;
            }
        }
        return null;
    }

    private void dialIfNeeded() {
        while (!closed && live.size() + connecting < config.connections()) {
            // Always keep one connection (HTTP/2 wants it up before the first request); more only
            // for requests that wait: one more HTTP/2 connection at a time, or one HTTP/1.1
            // connection per waiting request.
            boolean wanted = (live.isEmpty() && connecting == 0)
                    || (multiplexed ? connecting == 0 && !queue.isEmpty() : connecting < queue.size());
            if (!wanted) {
                return;
            }
            long now = System.nanoTime();
            if (now - nextDialNanos < 0) {
                scheduleRedial(nextDialNanos - now);
                return;
            }
            connecting++;
            dialer.apply(this);
        }
    }

    private void scheduleRedial(long delayNanos) {
        if (redial == null || redial.isDone()) {
            redial = loop.schedule(() -> {
                redial = null;
                dialIfNeeded();
            }, delayNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** A link can carry requests now. */
    void linkReady(UpstreamLink link) {
        connecting--;
        if (closed) {
            link.close();
            return;
        }
        live.add(link);
        connected.add(link);
        counters.upstreamConnects.increment();
        down = false;
        backoffNanos = INITIAL_BACKOFF_NANOS;
        nextDialNanos = System.nanoTime();
        dispatch();
    }

    /** A link can take more requests (a stream or the connection is free, or its limit grew). */
    void linkFreed(UpstreamLink link) {
        dispatch();
    }

    /** A link takes no new requests (GOAWAY): another may be dialled in its place. */
    void linkDraining(UpstreamLink link) {
        live.remove(link);
        dispatch();
    }

    /**
     * A link is gone: it was connected ({@code wasReady}) or its dial failed; the proxy closed it
     * itself ({@code expected}: drained, {@code Connection: close}, a timeout) or it was lost. It
     * has already failed or re-queued the requests it carried.
     */
    void linkLost(UpstreamLink link, boolean wasReady, boolean expected, String why) {
        if (wasReady) {
            live.remove(link);
            connected.remove(link);
            if (!expected) {
                lastFailure = why;
                counters.upstreamLosses.increment();
                log.warn("upstream {} lost: {}", config.upstream(), why);
            }
        } else {
            lastFailure = why;
            connecting--;
            counters.dialFailures.increment();
            log.debug("upstream {}: cannot connect: {}", config.upstream(), why);
            nextDialNanos = System.nanoTime() + backoffNanos;
            backoffNanos = Math.min(MAX_BACKOFF_NANOS, backoffNanos * 2);
            if (live.isEmpty() && connecting == 0 && !closed) {
                down = true;
                failQueue(HttpResponseStatus.BAD_GATEWAY, "upstream " + config.upstream() + " unreachable: " + why);
            }
        }
        if (!closed && live.isEmpty() && connecting == 0) {
            // Redial at once after a loss (the next dial backs off if it fails too).
            if (down) {
                scheduleRedial(Math.max(0, nextDialNanos - System.nanoTime()));
            } else {
                dialIfNeeded();
            }
        }
        dispatch();
    }

    /** An attempt of {@code x} ended on its link (answered or not): one slot less in flight. */
    void attemptEnded() {
        inFlight--;
    }

    /** The upstream answered {@code x}. */
    void respond(Exchange x, FullHttpResponse response) {
        if (!x.done) {
            counters.responses.increment();
            untrack(x);
        }
        x.finish(response);
    }

    /** The upstream provably did not process {@code x}: send it again, first in line. */
    void retry(Exchange x, String why) {
        if (x.done) {
            return;
        }
        x.cancel = null;
        if (x.attempts >= MAX_ATTEMPTS || closed) {
            fail(x, HttpResponseStatus.BAD_GATEWAY, "upstream " + config.upstream() + " refused the request "
                    + x.attempts + " times: " + why);
            return;
        }
        counters.retries.increment();
        queue.addFirst(x);
        dispatch();
    }

    /** Ends {@code x} with an error response the proxy makes, counted by its status. */
    void fail(Exchange x, HttpResponseStatus status, String why) {
        if (x.done) {
            return;
        }
        switch (status.code()) {
            case 502 -> counters.badGateway.increment();
            case 503 -> counters.unavailable.increment();
            case 504 -> counters.timeouts.increment();
            default -> {
            }
        }
        untrack(x);
        x.finish(Responses.error(alloc, status, why));
    }

    private void drop(Exchange x) {
        if (!x.done) {
            x.done = true;
            untrack(x);
            x.request.release();
        }
    }

    private void timeout(Exchange x) {
        if (x.done) {
            untrack(x); // cannot happen (a finished exchange leaves the list), but the sweep must move on
            return;
        }
        Runnable cancel = x.cancel;
        if (!queue.remove(x) && cancel != null) {
            cancel.run();
        }
        fail(x, HttpResponseStatus.GATEWAY_TIMEOUT, "no response from upstream " + config.upstream() + " within "
                + config.timeout().toMillis() + " ms");
        updateGauges();
    }

    private void failQueue(HttpResponseStatus status, String why) {
        Exchange x;
        while ((x = queue.poll()) != null) {
            if (x.abandoned) {
                drop(x);
            } else {
                fail(x, status, why);
            }
        }
    }

    private void updateGauges() {
        queuedGauge = queue.size();
        inFlightGauge = inFlight;
        openGauge = connected.size();
    }

    /** Fails what waits with 502 and closes every connection (what they carry gets 502); from any thread. */
    public void close() {
        loop.execute(() -> {
            closed = true;
            if (redial != null) {
                redial.cancel(false);
            }
            if (sweeper != null) {
                sweeper.cancel(false);
            }
            failQueue(HttpResponseStatus.BAD_GATEWAY, "the proxy is closing");
            for (UpstreamLink l : new ArrayList<>(connected)) {
                l.close();
            }
            updateGauges();
        });
    }
}
