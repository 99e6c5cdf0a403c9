package io.mancom.core.internal;

import java.util.Arrays;

/**
 * Who wants to hear that something may have become ready (a {@link BlockingAdapter}'s data, end,
 * writability; a blocking service's accept queue): the pollers that watch it. Firing costs one
 * volatile read when nobody watches, so the hot path of an unwatched connection does not pay.
 *
 * <p>Thread-safe. Listeners run on the firing thread (often an event loop): they must only wake
 * someone, never block.
 */
final class ReadinessSignal {
    private static final Runnable[] NONE = new Runnable[0];
    private volatile Runnable[] listeners = NONE;

    synchronized void add(Runnable listener) {
        Runnable[] l = listeners;
        for (Runnable r : l) {
            if (r == listener) {
                return;
            }
        }
        Runnable[] n = Arrays.copyOf(l, l.length + 1);
        n[l.length] = listener;
        listeners = n;
    }

    synchronized void remove(Runnable listener) {
        Runnable[] l = listeners;
        for (int i = 0; i < l.length; i++) {
            if (l[i] == listener) {
                Runnable[] n = new Runnable[l.length - 1];
                System.arraycopy(l, 0, n, 0, i);
                System.arraycopy(l, i + 1, n, i, l.length - i - 1);
                listeners = n;
                return;
            }
        }
    }

    void fire() {
        for (Runnable r : listeners) {
            r.run();
        }
    }
}
