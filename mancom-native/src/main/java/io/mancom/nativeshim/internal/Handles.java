package io.mancom.nativeshim.internal;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Checked handles for C: {@code (generation << 32) | (slot + 1)}, always positive. A slot's
 * generation grows each time it is reused, so a stale handle (closed, then its slot reused) finds
 * a different generation and is refused like a bogus one. C never sees a pointer.
 *
 * <p>{@link #get} is lock-free (one volatile array read); {@link #add} and {@link #remove} take a
 * lock. Thread-safe.
 */
final class Handles<T> {
    private static final int MAX = 1 << 24;

    private static final class Entry<T> {
        final int generation;
        final T value;

        Entry(int generation, T value) {
            this.generation = generation;
            this.value = value;
        }
    }

    private final Object lock = new Object();
    private volatile AtomicReferenceArray<Entry<T>> slots = new AtomicReferenceArray<>(64);
    private int[] generations = new int[64];
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private int used;

    /** Adds a value; returns its handle. */
    long add(T value) {
        synchronized (lock) {
            int slot;
            if (!free.isEmpty()) {
                slot = free.poll();
            } else {
                if (used == slots.length()) {
                    if (used >= MAX) {
                        throw new IllegalStateException("more than " + MAX + " open handles: close connections you no longer use");
                    }
                    grow();
                }
                slot = used++;
            }
            int gen = generations[slot] + 1;
            if (gen <= 0) {
                gen = 1;
            }
            generations[slot] = gen;
            slots.set(slot, new Entry<>(gen, value));
            return ((long) gen << 32) | (slot + 1L);
        }
    }

    private void grow() {
        AtomicReferenceArray<Entry<T>> old = slots;
        AtomicReferenceArray<Entry<T>> bigger = new AtomicReferenceArray<>(old.length() * 2);
        for (int i = 0; i < old.length(); i++) {
            bigger.set(i, old.get(i));
        }
        int[] g = new int[bigger.length()];
        System.arraycopy(generations, 0, g, 0, generations.length);
        generations = g;
        slots = bigger;
    }

    /** The value of a live handle, or null for a bogus, stale or removed one. */
    T get(long handle) {
        if (handle <= 0) {
            return null;
        }
        int slot = (int) (handle & 0xffffffffL) - 1;
        int gen = (int) (handle >>> 32);
        AtomicReferenceArray<Entry<T>> s = slots;
        if (slot < 0 || slot >= s.length()) {
            return null;
        }
        Entry<T> e = s.get(slot);
        return e != null && e.generation == gen ? e.value : null;
    }

    /** Removes a handle; returns its value, or null if it was not live. */
    T remove(long handle) {
        synchronized (lock) {
            T v = get(handle);
            if (v != null) {
                int slot = (int) (handle & 0xffffffffL) - 1;
                slots.set(slot, null);
                free.add(slot);
            }
            return v;
        }
    }

    /** Every live value, for shutdown. */
    List<T> values() {
        List<T> out = new ArrayList<>();
        AtomicReferenceArray<Entry<T>> s = slots;
        for (int i = 0; i < s.length(); i++) {
            Entry<T> e = s.get(i);
            if (e != null) {
                out.add(e.value);
            }
        }
        return out;
    }
}
