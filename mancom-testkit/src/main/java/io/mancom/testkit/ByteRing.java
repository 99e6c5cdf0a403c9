package io.mancom.testkit;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded buffer between a direction's reader and writer in a {@link SerialLineRelay}: the
 * reader blocks when it is full (so the relay stops reading the sender: backpressure, as flow
 * control would), the writer when it is empty. Thread-safe for one reader and one writer.
 */
final class ByteRing {
    private final byte[] ring;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition notEmpty = lock.newCondition();
    private int head;
    private int size;
    private boolean closed;

    ByteRing(int capacity) {
        this.ring = new byte[capacity];
    }

    /** Puts all of {@code len} bytes, waiting for room; returns early (dropping the rest) once closed. */
    void put(byte[] src, int off, int len) throws InterruptedException {
        lock.lock();
        try {
            while (len > 0) {
                while (size == ring.length && !closed) {
                    notFull.await();
                }
                if (closed) {
                    return;
                }
                int tail = (head + size) % ring.length;
                int n = Math.min(len, Math.min(ring.length - size, ring.length - tail));
                System.arraycopy(src, off, ring, tail, n);
                size += n;
                off += n;
                len -= n;
                notEmpty.signal();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Takes up to {@code max} bytes, waiting up to {@code timeoutNanos} for one; 0 if none came, -1 once closed. */
    int take(byte[] dst, int max, long timeoutNanos) throws InterruptedException {
        lock.lock();
        try {
            long left = timeoutNanos;
            while (size == 0 && !closed) {
                if (left <= 0) {
                    return 0;
                }
                left = notEmpty.awaitNanos(left);
            }
            if (closed) {
                return -1;
            }
            int n = Math.min(max, Math.min(size, ring.length - head));
            System.arraycopy(ring, head, dst, 0, n);
            head = (head + n) % ring.length;
            size -= n;
            notFull.signal();
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes held now. */
    int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes both sides for good. */
    void close() {
        lock.lock();
        try {
            closed = true;
            notFull.signalAll();
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    static long millis(long ms) {
        return TimeUnit.MILLISECONDS.toNanos(ms);
    }
}
