package io.mancom;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Waits for many {@link BlockingConnection}s and blocking services at once, like {@code poll(2)},
 * {@code zmq_poll} or the C API's {@code mancom_poll}: one thread can serve many connections with
 * the blocking API. Get one from {@link ManCom#newPoller()}.
 *
 * <pre>{@code
 * try (Poller poller = mancom.newPoller()) {
 *     poller.registerAccept("echo");
 *     while (running) {
 *         for (Poller.Ready r : poller.poll(Duration.ofSeconds(1))) {
 *             if (r.is(Poller.Event.ACCEPTABLE)) {
 *                 poller.register(mancom.accept("echo", Duration.ZERO), Set.of(Poller.Event.READABLE));
 *             } else if (r.is(Poller.Event.READABLE)) {
 *                 int n = r.connection().read(buf, Duration.ZERO);   // does not wait
 *                 if (n < 0) { poller.deregister(r.connection()); r.connection().close(); }
 *                 else r.connection().write(buf, 0, n);
 *             }
 *         }
 *     }
 * }
 * }</pre>
 *
 * <h2>Readiness</h2>
 * Level-triggered, as {@code poll(2)}: an item is reported by every {@link #poll} while it is
 * ready. {@link Event#READABLE}: a read would not wait (data is buffered, or the stream ended, or
 * the link failed: the read returns or throws at once). {@link Event#WRITABLE}: a write would not
 * wait for room (it may still fail at once, after {@link BlockingConnection#shutdownOutput()} or a
 * close). {@link Event#CLOSED}: the link is closed (buffered data may remain to be read); reported
 * whatever the interest. {@link Event#ACCEPTABLE}: {@link ManCom#accept} on the service would
 * return a connection at once.
 *
 * <h2>Lifecycle and threading</h2>
 * Registrations hold no resources of the connections: closing a connection does not deregister it
 * (it reports {@link Event#CLOSED} until deregistered). {@link #close()} drops every registration
 * and ends a waiting {@link #poll} with an empty list; a poller is not reusable after it. Register
 * and deregister from any thread; one thread at a time should {@link #poll}, as reading a
 * connection from two threads at once makes no sense. {@link #wakeup()} from any thread.
 *
 * <h2>Errors</h2>
 * A connection that is not one of this runtime's blocking connections is an
 * {@link IllegalArgumentException}; an unknown service a {@link ConfigException} (as for
 * {@link ManCom#accept}), a service served by callbacks a {@link ManComException}
 * ({@code WRONG_MODE}); registering on a closed poller {@link IllegalStateException}.
 */
public interface Poller extends AutoCloseable {

    /** What an item can be ready for. */
    enum Event {
        /** A read would not wait. */
        READABLE,
        /** A write would not wait for room. */
        WRITABLE,
        /** The connection is closed; always reported, whatever the interest. */
        CLOSED,
        /** A connection waits to be accepted on the service. */
        ACCEPTABLE
    }

    /**
     * One ready item: a connection (and its service) or, for {@link Event#ACCEPTABLE}, a service
     * alone ({@code connection} null). {@code events} is immutable.
     */
    record Ready(BlockingConnection connection, String service, Set<Event> events) {
        public Ready {
            events = Set.copyOf(events);
        }

        /** Whether {@code event} is among the ready events. */
        public boolean is(Event event) {
            return events.contains(event);
        }
    }

    /**
     * Watches {@code connection} for {@code interest} ({@link Event#READABLE} and/or
     * {@link Event#WRITABLE}; {@link Event#CLOSED} is always watched). Registering again replaces
     * the interest.
     *
     * @throws IllegalArgumentException not a blocking connection of this runtime, or
     *                                  {@link Event#ACCEPTABLE} in the interest
     */
    void register(BlockingConnection connection, Set<Event> interest);

    /**
     * Watches a blocking service for connections to accept ({@link Event#ACCEPTABLE}); binds the
     * service as {@link ManCom#listen} does, without waiting.
     *
     * @throws IOException the service is served by callbacks ({@code WRONG_MODE}) or cannot bind;
     *                     an unknown service is a {@link ConfigException}, as for {@link ManCom#accept}
     */
    void registerAccept(String service) throws IOException;

    /** Stops watching {@code connection}; nothing happens if it was not registered. */
    void deregister(BlockingConnection connection);

    /** Stops watching {@code service} for connections; nothing happens if it was not registered. */
    void deregisterAccept(String service);

    /**
     * Waits until at least one registered item is ready, or {@code timeout} passes
     * ({@link Duration#ZERO}: look and return at once), or {@link #wakeup()} or {@link #close()}.
     *
     * @return the ready items, in no particular order; empty on timeout, wakeup or close
     * @throws InterruptedIOException the waiting thread was interrupted (its flag stays set)
     */
    List<Ready> poll(Duration timeout) throws InterruptedIOException;

    /** Makes a waiting (or the next) {@link #poll} return at once. Any thread. */
    void wakeup();

    /** Drops every registration; the connections stay open. Idempotent. */
    @Override
    void close();
}
