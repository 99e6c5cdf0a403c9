package io.mancom.nativeshim.internal;

import com.sun.jna.Pointer;
import io.mancom.BlockingConnection;
import io.mancom.Poller;
import io.mancom.core.internal.BlockingHooks;

import java.io.IOException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One look of {@code mancom_poll} at its items ({@code struct mancom_pollitem}: the handle at
 * offset 0, {@code events} at 8, {@code revents} at 10): each live handle is registered with a
 * {@link Poller} of the runtime, and the poller's answer becomes the items' {@code revents}.
 *
 * <table>
 *   <caption>What the poller says, as C hears it</caption>
 *   <tr><th>Poller</th><th>revents</th></tr>
 *   <tr><td>READABLE</td><td>MANCOM_POLLIN (data, end of stream or a failure to read)</td></tr>
 *   <tr><td>WRITABLE</td><td>MANCOM_POLLOUT, unless the link is closed: there only after
 *       mancom_shutdown_output (a write fails at once, as poll(2) says of a shut socket)</td></tr>
 *   <tr><td>CLOSED</td><td>MANCOM_POLLHUP, and MANCOM_POLLERR if the link failed</td></tr>
 *   <tr><td>ACCEPTABLE</td><td>MANCOM_POLLIN on the service's listener</td></tr>
 *   <tr><td>(not a live blocking connection or listener)</td><td>MANCOM_POLLNVAL</td></tr>
 * </table>
 *
 * <p>Used by one thread, for one look.
 */
final class PollItems {
    private static final int ITEM = 16;

    private final Pointer items;
    private final int n;
    private final short[] events;
    /** Per item: a live NativeListener or blocking NativeConnection; null for POLLNVAL. */
    private final Object[] targets;
    /** How many items are POLLNVAL. */
    final int invalid;

    /** Looks the handles up (after the poller was made known, so that a close from now on wakes it). */
    PollItems(Pointer items, int n, Handles<Object> handles) {
        this.items = items;
        this.n = n;
        this.events = new short[n];
        this.targets = new Object[n];
        int bad = 0;
        for (int i = 0; i < n; i++) {
            long off = (long) i * ITEM;
            events[i] = items.getShort(off + 8);
            Object o = handles.get(items.getLong(off));
            if (o instanceof NativeListener l && !l.closed
                    || o instanceof NativeConnection c && c.mode == NativeConnection.Mode.BLOCKING) {
                targets[i] = o;
            } else {
                bad++;
            }
        }
        invalid = bad;
    }

    /**
     * Registers the live items with {@code poller}. Listeners under {@code lock}, checking that they
     * are still open: registering binds the service, which a concurrent mancom_close must not undo.
     */
    void register(Poller poller, Object lock) throws IOException {
        Map<BlockingConnection, Set<Poller.Event>> interest = new IdentityHashMap<>();
        for (int i = 0; i < n; i++) {
            if (targets[i] instanceof NativeConnection c) {
                Set<Poller.Event> e = interest.computeIfAbsent(c.blocking(), k -> EnumSet.noneOf(Poller.Event.class));
                if ((events[i] & Bridge.POLLIN) != 0) {
                    e.add(Poller.Event.READABLE);
                }
                if ((events[i] & Bridge.POLLOUT) != 0) {
                    e.add(Poller.Event.WRITABLE);
                }
            }
        }
        interest.forEach(poller::register);
        synchronized (lock) {
            for (int i = 0; i < n; i++) {
                if (targets[i] instanceof NativeListener l && !l.closed && (events[i] & Bridge.POLLIN) != 0) {
                    poller.registerAccept(l.service);
                }
            }
        }
    }

    /** Writes every item's {@code revents} from {@code ready}; returns how many are not 0. */
    int report(List<Poller.Ready> ready) {
        short[] revents = new short[n];
        for (Poller.Ready r : ready) {
            for (int i = 0; i < n; i++) {
                if (r.is(Poller.Event.ACCEPTABLE)) {
                    if (targets[i] instanceof NativeListener l && l.service.equals(r.service())) {
                        revents[i] |= (short) (events[i] & Bridge.POLLIN);
                    }
                } else if (targets[i] instanceof NativeConnection c && c.blocking() == r.connection()) {
                    revents[i] |= connectionEvents(r, c, events[i]);
                }
            }
        }
        int count = 0;
        for (int i = 0; i < n; i++) {
            short rv = targets[i] == null ? Bridge.POLLNVAL : revents[i];
            items.setShort((long) i * ITEM + 10, rv);
            if (rv != 0) {
                count++;
            }
        }
        return count;
    }

    private static short connectionEvents(Poller.Ready r, NativeConnection c, short wanted) {
        int rv = 0;
        boolean closed = r.is(Poller.Event.CLOSED);
        if (r.is(Poller.Event.READABLE)) {
            rv |= wanted & Bridge.POLLIN;
        }
        // A closed link is writable to Java (a write fails at once); to C only after its own
        // shutdown_output, which keeps POLLOUT also once the peer has closed since.
        if (r.is(Poller.Event.WRITABLE) && (!closed || c.isOutputShut())) {
            rv |= wanted & Bridge.POLLOUT;
        }
        if (closed) {
            rv |= Bridge.POLLHUP;
            if (BlockingHooks.failure(c.blocking()) != null) {
                rv |= Bridge.POLLERR;
            }
        }
        return (short) rv;
    }
}
