package io.mancom.daemon.internal;

import io.mancom.core.internal.config.ScopeSettings;
import io.netty.channel.EventLoopGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One service of a {@link RelayOwner}: the processes attached to it, the connections held while
 * none is, and its figures.
 *
 * <h2>Handing over</h2>
 * A new connection goes to the attached processes in turn (round robin); with none attached it is
 * held, paused, until one attaches, then the held connections go out in the order they came.
 *
 * <h2>Bounds</h2>
 * At most {@code hold.connections} connections are held at once and each for at most
 * {@code hold.timeout}; one past either is closed with one log line naming the service, the peer
 * and the bound. The whole line of a {@code mux = off} device is exempt: closing it would only
 * make the runtime reopen it, so it is held for as long as it takes, unread (backpressure: the
 * device's bytes wait in the line, nothing is lost past what the runtime had read).
 *
 * <h2>Threading</h2>
 * Any thread; the state is guarded by {@code this}, and no relay or channel is called while the
 * lock is held.
 */
final class RelayedService {
    private static final Logger log = LoggerFactory.getLogger(RelayedService.class);

    final String name;
    private final int holdConnections;
    private final Duration holdTimeout;
    private final EventLoopGroup timers;

    // Guarded by this.
    private final List<Attachment> attached = new ArrayList<>();
    private final ArrayDeque<Relay> held = new ArrayDeque<>();
    private int next;
    private long handedOver;
    private long heldTooLong;
    private boolean closed;
    private boolean starved;

    RelayedService(String name, ScopeSettings scope, EventLoopGroup timers) {
        this.name = name;
        this.holdConnections = scope.holdConnections();
        this.holdTimeout = scope.holdTimeout();
        this.timers = timers;
    }

    /** A new connection, or a whole line whose process went away: hand it over, or hold it. */
    void hold(Relay relay) {
        hold(relay, null);
    }

    /** {@link #hold(Relay)}, not to {@code failed} (a process that could not take it: at max-streams). */
    private void hold(Relay relay, Attachment failed) {
        Attachment to;
        boolean tooMany = false;
        synchronized (this) {
            if (closed || relay.isClosed()) {
                return;
            }
            to = pick(failed);
            if (to == null && !attached.isEmpty()) {
                starved = true; // every process is at its max-streams: retried as their streams end
            }
            if (to == null) {
                if (!relay.wholeLine && countHeldConnections() >= holdConnections) {
                    tooMany = true;
                    heldTooLong++;
                } else {
                    held.add(relay);
                }
            }
        }
        if (to != null) {
            relay.handTo(to, () -> hold(relay, to));
        } else if (tooMany) {
            log.warn("service '{}': closing the connection from {}: no process serves the service and "
                    + "hold.connections = {} connections are held already", name, relay.connection.remote(),
                    holdConnections);
            relay.connection.close();
        } else if (!relay.wholeLine) {
            try {
                relay.holdTimer(timers.schedule(() -> expire(relay), holdTimeout.toNanos(), TimeUnit.NANOSECONDS));
            } catch (RejectedExecutionException e) {
                relay.connection.close(); // the owner is closing: its runtime's loops are gone
            }
        }
    }

    private void expire(Relay relay) {
        synchronized (this) {
            if (!held.remove(relay)) {
                return;
            }
            heldTooLong++;
        }
        log.warn("service '{}': closing the connection from {}: no process took it within hold.timeout = {}",
                name, relay.connection.remote(), format(holdTimeout));
        relay.connection.close();
    }

    /** A process attached: it gets the held connections (and a share of every later one). */
    void attach(Attachment a) {
        List<Relay> out;
        synchronized (this) {
            if (closed) {
                a.channel.close();
                return;
            }
            attached.add(a);
            out = new ArrayList<>(held);
            held.clear();
        }
        a.channel.closeFuture().addListener(f -> detach(a));
        if (!a.channel.isActive()) {
            detach(a);
        }
        // Through hold() rather than straight to a: with several processes attached they share.
        out.forEach(this::hold);
    }

    private void detach(Attachment a) {
        synchronized (this) {
            attached.remove(a);
        }
        // Its streams close with its session; each relay decides then (held again, or closed).
    }

    /**
     * A relayed stream has ended: if connections are held because every process was at its
     * {@code max-streams}, the oldest one tries again.
     */
    void streamEnded() {
        Relay retry;
        synchronized (this) {
            if (!starved || closed) {
                return;
            }
            retry = held.poll();
            starved = !held.isEmpty();
        }
        if (retry != null) {
            hold(retry);
        }
    }

    /** The relay's stream is active on {@code to}. */
    synchronized void handedOver(Relay relay, Attachment to) {
        handedOver++;
    }

    /** The relay's connection closed. */
    synchronized void closed(Relay relay) {
        held.remove(relay);
    }

    /** The next live attach connection but {@code not}, round robin, or null. Under the lock. */
    private Attachment pick(Attachment not) {
        attached.removeIf(a -> !a.isActive());
        for (int i = 0; i < attached.size(); i++) {
            next = (next + 1) % attached.size();
            Attachment a = attached.get(next);
            if (a != not) {
                return a;
            }
        }
        return null;
    }

    private int countHeldConnections() {
        int n = 0;
        for (Relay r : held) {
            if (!r.wholeLine) {
                n++;
            }
        }
        return n;
    }

    synchronized Owner.OwnerStatus status() {
        int live = 0;
        for (Attachment a : attached) {
            if (a.isActive()) {
                live++;
            }
        }
        return new Owner.OwnerStatus(live, held.size(), handedOver, heldTooLong);
    }

    /** Stops handing over; closes the held connections and the attach connections. */
    void close() {
        List<Relay> h;
        List<Attachment> a;
        synchronized (this) {
            closed = true;
            h = new ArrayList<>(held);
            held.clear();
            a = new ArrayList<>(attached);
            attached.clear();
        }
        h.forEach(r -> r.connection.close());
        a.forEach(x -> x.channel.close());
    }

    static String format(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
