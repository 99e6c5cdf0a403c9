package io.mancom.core.internal.monitor;

import java.util.ArrayList;
import java.util.List;

/**
 * The live channels of a service (or the mux sessions of a runtime) as a list threaded through
 * the {@link ChannelStats} entries themselves: adding or removing a channel allocates nothing, so
 * a hundred thousand idle mux streams cost two references each here, not a map entry.
 *
 * <h2>Threading</h2>
 * Not thread-safe: the owner guards every call with one lock (opens, closes and snapshots take it;
 * counting never does).
 */
final class LiveChannels {
    private ChannelStats head;
    private int size;

    void add(ChannelStats c) {
        c.prev = null;
        c.next = head;
        if (head != null) {
            head.prev = c;
        }
        head = c;
        size++;
    }

    /** Removes {@code c}: false if it was not on this list. */
    boolean remove(ChannelStats c) {
        if (c.prev == null && head != c) {
            return false;
        }
        if (c.prev != null) {
            c.prev.next = c.next;
        } else {
            head = c.next;
        }
        if (c.next != null) {
            c.next.prev = c.prev;
        }
        c.prev = null;
        c.next = null;
        size--;
        return true;
    }

    ChannelStats head() {
        return head;
    }

    int size() {
        return size;
    }

    /** Adds every entry to {@code into}. */
    void addTo(List<ChannelStats> into) {
        for (ChannelStats c = head; c != null; c = c.next) {
            into.add(c);
        }
    }

    List<ChannelStats> list() {
        List<ChannelStats> l = new ArrayList<>(size);
        addTo(l);
        return l;
    }
}
