package io.mancom.core.internal;

import io.mancom.BlockingConnection;
import io.mancom.ManComException;
import io.mancom.Poller;

import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@link Poller} over {@link BlockingAdapter}s and blocking services' accept queues. Each watched
 * item fires this poller's {@link #signal} when it may have become ready; a poll scans its items
 * and, when none is ready, sleeps until the signal's sequence number moves (no busy wait, no lost
 * wake-up: the number is read before the scan).
 *
 * <p>Thread-safe: the registration tables and the sequence number are guarded by {@code this}.
 */
final class BlockingPoller implements Poller {
    private final DeMuxer demuxer;
    private final Runnable signal = this::signal;
    private final Map<BlockingAdapter, Set<Event>> connections = new LinkedHashMap<>();
    private final Map<String, Service> services = new LinkedHashMap<>();
    private long seq;
    private boolean closed;
    private boolean wokenUp;

    BlockingPoller(DeMuxer demuxer) {
        this.demuxer = demuxer;
    }

    private synchronized void signal() {
        seq++;
        notifyAll();
    }

    @Override
    public void register(BlockingConnection connection, Set<Event> interest) {
        Objects.requireNonNull(connection, "connection");
        if (!(connection instanceof BlockingAdapter a)) {
            throw new IllegalArgumentException(connection + " is not a blocking connection of this runtime");
        }
        if (interest.contains(Event.ACCEPTABLE)) {
            throw new IllegalArgumentException("ACCEPTABLE is for services: use registerAccept(service)");
        }
        Set<Event> watched = interest.isEmpty() ? EnumSet.noneOf(Event.class) : EnumSet.copyOf(interest);
        synchronized (this) {
            checkOpen();
            connections.put(a, watched);
        }
        a.readiness.add(signal);
        signal(); // it may be ready already
    }

    @Override
    public void registerAccept(String service) throws ManComException {
        Service s = demuxer.blockingService(Objects.requireNonNull(service, "service"));
        synchronized (this) {
            checkOpen();
            services.put(service, s);
        }
        s.acceptReadiness.add(signal);
        signal();
    }

    @Override
    public void deregister(BlockingConnection connection) {
        if (connection instanceof BlockingAdapter a) {
            synchronized (this) {
                connections.remove(a);
            }
            a.readiness.remove(signal);
        }
    }

    @Override
    public void deregisterAccept(String service) {
        Service s;
        synchronized (this) {
            s = services.remove(service);
        }
        if (s != null) {
            s.acceptReadiness.remove(signal);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the poller is closed");
        }
    }

    @Override
    public List<Ready> poll(Duration timeout) throws InterruptedIOException {
        long deadline = timeout.compareTo(BlockingAdapter.FOREVER) >= 0 ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        while (true) {
            long seen;
            List<Map.Entry<BlockingAdapter, Set<Event>>> conns;
            List<Service> accepting;
            synchronized (this) {
                if (closed) {
                    return List.of();
                }
                seen = seq;
                conns = new ArrayList<>(connections.entrySet());
                accepting = new ArrayList<>(services.values());
            }
            List<Ready> ready = scan(conns, accepting);
            if (!ready.isEmpty()) {
                return ready;
            }
            synchronized (this) {
                while (seq == seen && !closed && !wokenUp) {
                    long left = deadline == Long.MAX_VALUE ? 0 : deadline - System.nanoTime();
                    if (deadline != Long.MAX_VALUE && left <= 0) {
                        return List.of();
                    }
                    try {
                        if (deadline == Long.MAX_VALUE) {
                            wait();
                        } else {
                            wait(left / 1_000_000, (int) (left % 1_000_000));
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("poll interrupted");
                    }
                }
                if (wokenUp || closed) {
                    wokenUp = false;
                    return List.of();
                }
            }
        }
    }

    private static List<Ready> scan(List<Map.Entry<BlockingAdapter, Set<Event>>> conns, List<Service> accepting) {
        List<Ready> ready = new ArrayList<>();
        for (Map.Entry<BlockingAdapter, Set<Event>> e : conns) {
            BlockingAdapter a = e.getKey();
            int r = a.readiness();
            EnumSet<Event> events = EnumSet.noneOf(Event.class);
            if ((r & BlockingAdapter.READABLE) != 0 && e.getValue().contains(Event.READABLE)) {
                events.add(Event.READABLE);
            }
            if ((r & BlockingAdapter.WRITABLE) != 0 && e.getValue().contains(Event.WRITABLE)) {
                events.add(Event.WRITABLE);
            }
            if ((r & BlockingAdapter.CLOSED) != 0) {
                events.add(Event.CLOSED);
            }
            if (!events.isEmpty()) {
                ready.add(new Ready(a, a.service(), events));
            }
        }
        for (Service s : accepting) {
            var q = s.acceptQueue;
            if (q != null && !q.isEmpty()) {
                ready.add(new Ready(null, s.name(), EnumSet.of(Event.ACCEPTABLE)));
            }
        }
        return ready;
    }

    @Override
    public synchronized void wakeup() {
        wokenUp = true;
        notifyAll();
    }

    @Override
    public void close() {
        List<BlockingAdapter> conns;
        List<Service> accepting;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            conns = new ArrayList<>(connections.keySet());
            accepting = new ArrayList<>(services.values());
            connections.clear();
            services.clear();
            notifyAll();
        }
        conns.forEach(a -> a.readiness.remove(signal));
        accepting.forEach(s -> s.acceptReadiness.remove(signal));
    }
}
