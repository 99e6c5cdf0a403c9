package io.mancom.nativeshim.internal;

import io.mancom.Registration;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A service served with the C blocking API: an acceptor and a receiver registered with the
 * runtime, and a bounded backlog of connections that wait for {@code mancom_accept}. Beyond
 * {@link #BACKLOG} waiting connections, new ones are closed (the peer sees a close, not a hang).
 *
 * <p>Thread-safe.
 */
final class NativeListener {
    static final int BACKLOG = 128;

    final String service;
    volatile long handle;
    private volatile Registration acceptor;
    private volatile Registration receiver;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition waiting = lock.newCondition();
    private final ArrayDeque<NativeConnection> backlog = new ArrayDeque<>();
    private boolean closed;

    NativeListener(String service) {
        this.service = service;
    }

    void registrations(Registration acceptor, Registration receiver) {
        this.acceptor = acceptor;
        this.receiver = receiver;
    }

    /** From the acceptor, on the event loop. */
    void offer(NativeConnection c) {
        boolean refuse;
        lock.lock();
        try {
            refuse = closed || backlog.size() >= BACKLOG;
            if (!refuse) {
                backlog.add(c);
                waiting.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (refuse) {
            c.connection().close();
        } else {
            PollSignal.signal();
        }
    }

    /** The next waiting connection, or null when none came within {@code timeoutMs} (or closed). */
    NativeConnection take(int timeoutMs) throws InterruptedException {
        lock.lock();
        try {
            long nanos = timeoutMs < 0 ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (backlog.isEmpty() && !closed) {
                if (nanos <= 0) {
                    return null;
                }
                if (nanos == Long.MAX_VALUE) {
                    waiting.await();
                } else {
                    nanos = waiting.awaitNanos(nanos);
                }
            }
            return backlog.poll();
        } finally {
            lock.unlock();
        }
    }

    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    short readiness(short events) {
        lock.lock();
        try {
            if (closed) {
                return Bridge.POLLNVAL;
            }
            return (short) (backlog.isEmpty() ? 0 : Bridge.POLLIN & events);
        } finally {
            lock.unlock();
        }
    }

    /** Stops listening and closes the connections nobody accepted. */
    void close() {
        ArrayDeque<NativeConnection> left;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            left = new ArrayDeque<>(backlog);
            backlog.clear();
            waiting.signalAll();
        } finally {
            lock.unlock();
        }
        if (acceptor != null) {
            acceptor.close();
        }
        if (receiver != null) {
            receiver.close();
        }
        left.forEach(NativeConnection::close);
        PollSignal.signal();
    }
}
