package io.mancom.nativeshim.internal;

import com.sun.jna.Pointer;
import io.mancom.BlockingConnection;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.Poller;
import io.mancom.Registration;
import io.mancom.core.internal.BlockingHooks;
import io.mancom.nativeshim.ErrorCode;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The C API on top of one {@link ManCom}: each method is one entry of the {@link Table}, returns
 * a value or a negative {@code MANCOM_E...} code, and never throws (a JNA callback must not).
 *
 * <h2>Handles</h2>
 * Connections and listeners live in one {@link Handles} table; registrations have their own small
 * int ids. C only ever holds these numbers.
 *
 * <h2>Modes</h2>
 * A service is served by C callbacks or by the C blocking API (a {@link NativeListener}), not both;
 * mixing them is {@link ErrorCode#EWRONGMODE}. The callback mode is the runtime's callback API; the
 * blocking mode is Java's blocking API ({@link ManCom#listen}, {@link ManCom#accept},
 * {@link ManCom#connect}, {@link BlockingConnection}), and {@code mancom_poll} is Java's
 * {@link Poller} over the same connections and accept queues, so the buffer and backlog bounds
 * are the service's {@code blocking.read-buffer} and {@code blocking.accept-backlog}.
 *
 * <h2>Threading</h2>
 * Called on C threads (attached by JNA) and from inside C callbacks on event-loop threads; the
 * waiting entries refuse the latter ({@link CFunction#inCallback()}).
 */
final class Bridge {
    static final short POLLIN = 0x001;
    static final short POLLOUT = 0x004;
    static final short POLLERR = 0x008;
    static final short POLLHUP = 0x010;
    static final short POLLNVAL = 0x020;
    private static final Duration FOREVER = Duration.ofDays(365);
    private static final long CLOSE_WAIT_MS = 2000;

    private final ManCom mancom;
    private final Handles<Object> handles = new Handles<>();
    private final Map<Integer, AutoCloseable> registrations = new ConcurrentHashMap<>();
    private final AtomicInteger nextRegistration = new AtomicInteger();
    // Which style serves a service; guarded by `this`.
    private final Map<String, NativeListener> listeners = new HashMap<>();
    private final Map<String, Integer> callbackRegistrations = new HashMap<>();
    /** The pollers of the mancom_poll calls waiting now: a mancom_close wakes them to look again. */
    private final Set<Poller> polling = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    Bridge(ManCom mancom) {
        this.mancom = mancom;
    }

    // ---- lifecycle ----

    int shutdown() {
        if (CFunction.inCallback()) {
            return refuseInCallback("mancom_shutdown");
        }
        closed = true;
        closeCallbackConnections();
        synchronized (this) {
            listeners.values().forEach(this::stopListening);
            listeners.clear();
        }
        registrations.values().forEach(Bridge::closeQuietly);
        registrations.clear();
        polling.forEach(Poller::wakeup);
        mancom.close();
        for (Object o : handles.values()) {
            if (o instanceof NativeConnection) {
                ((NativeConnection) o).close();
            }
        }
        return 0;
    }

    /**
     * Closes every callback connection the program knows while its receivers are still registered,
     * and waits (at most {@link #CLOSE_WAIT_MS} in all) until their close callbacks have run:
     * mancom.h promises each connection its close callback exactly once, also at shutdown. Dropping
     * the registrations first left those closes with nobody to tell.
     */
    private void closeCallbackConnections() {
        java.util.List<CompletableFuture<Void>> closing = new java.util.ArrayList<>();
        for (Object o : handles.values()) {
            if (o instanceof NativeConnection n && n.mode == NativeConnection.Mode.CALLBACK && n.connection() != null) {
                Connection c = n.connection();
                c.close();
                closing.add(c.closeFuture().toCompletableFuture());
            }
        }
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
                    .get(CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // a connection that closed with a cause has had its close callback too; a slow one is
            // closed by the runtime below
        }
    }

    int awaitReady(int timeoutMs) {
        if (CFunction.inCallback()) {
            return refuseInCallback("mancom_await_ready");
        }
        try {
            mancom.awaitReady(duration(timeoutMs));
            return 0;
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    // ---- callback API ----

    int registerAcceptor(String service, Pointer cb, Pointer user) {
        CFunction onAccept = CFunction.of(cb, "accept");
        return registerCallbacks("mancom_register_acceptor", service,
                () -> mancom.registerAcceptor(service, c -> onAccept.call(entryOf(c).handle, user)));
    }

    int registerDataReceiver(String service, Pointer data, Pointer close, Pointer user) {
        DataReceiver receiver = new CallbackReceiver(this::entryOf, CFunction.of(data, "data"), CFunction.of(close, "close"), user);
        return registerCallbacks("mancom_register_data_receiver", service, () -> mancom.registerDataReceiver(service, receiver));
    }

    private interface Registrar {
        Registration register();
    }

    private int registerCallbacks(String fn, String service, Registrar registrar) {
        try {
            int known = checkService(fn, service);
            if (known < 0) {
                return known;
            }
            Registration r;
            synchronized (this) {
                if (listeners.containsKey(service)) {
                    return Errors.fail(ErrorCode.EWRONGMODE, fn + ": service '" + service
                            + "' is served with the blocking API (mancom_listen/mancom_accept); use one style per service");
                }
                r = registrar.register();
                callbackRegistrations.merge(service, 1, Integer::sum);
            }
            return addRegistration(() -> {
                r.close();
                synchronized (this) {
                    callbackRegistrations.computeIfPresent(service, (k, n) -> n == 1 ? null : n - 1);
                }
            });
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    int connectAsync(String service, Pointer open, Pointer data, Pointer close, Pointer user) {
        try {
            int known = checkService("mancom_connect_async", service);
            if (known < 0) {
                return known;
            }
            CallbackReceiver receiver = new CallbackReceiver(this::entryOf, CFunction.of(data, "data"), CFunction.of(close, "close"), user);
            receiver.onOpen = CFunction.of(open, "open");
            CompletableFuture<Connection> f = mancom.connectAsync(service, receiver);
            f.whenComplete((c, e) -> {
                if (c != null) {
                    receiver.opened(c);
                } else if (receiver.onClose != null) {
                    int code = Errors.fail(e);
                    receiver.onClose.call(0L, code, user);
                }
            });
            return addRegistration(() -> {
                if (!f.cancel(false)) {
                    f.thenAccept(Connection::close);
                }
            });
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    int unregister(int id) {
        AutoCloseable r = registrations.remove(id);
        if (r == null) {
            return Errors.fail(ErrorCode.EBADHANDLE, "mancom_unregister: " + id + " is not a live registration id");
        }
        closeQuietly(r);
        return 0;
    }

    private int addRegistration(AutoCloseable r) {
        int id = nextRegistration.incrementAndGet();
        registrations.put(id, r);
        return id;
    }

    /** The handle object of a callback connection, made on first sight (acceptor or first data). */
    private NativeConnection entryOf(Connection c) {
        Object a = c.attachment();
        if (a instanceof NativeConnection) {
            return (NativeConnection) a;
        }
        synchronized (c) {
            a = c.attachment();
            if (a instanceof NativeConnection) {
                return (NativeConnection) a;
            }
            NativeConnection n = new NativeConnection();
            n.handle = handles.add(n);
            c.closeFuture().whenComplete((v, e) -> handles.remove(n.handle));
            n.bind(c);
            return n;
        }
    }

    // ---- blocking API ----

    long listen(String service, int timeoutMs) {
        if (CFunction.inCallback()) {
            return refuseInCallback("mancom_listen");
        }
        try {
            int known = checkService("mancom_listen", service);
            if (known < 0) {
                return known;
            }
            NativeListener l;
            synchronized (this) {
                if (callbackRegistrations.containsKey(service)) {
                    return Errors.fail(ErrorCode.EWRONGMODE, "mancom_listen: service '" + service
                            + "' is served with callbacks (mancom_register_...); use one style per service");
                }
                l = listeners.get(service);
                if (l == null) {
                    l = new NativeListener(service);
                    l.handle = handles.add(l);
                    listeners.put(service, l);
                }
            }
            try {
                mancom.listen(service, timeoutMs == 0 ? Duration.ZERO : duration(timeoutMs));
            } catch (ManComException e) {
                if (timeoutMs != 0 || e.reason() != ManComException.Reason.TIMEOUT) {
                    return Errors.fail(e);
                }
                // 0 does not wait: the service is binding, and polling the listener tells when a client came
            }
            return l.handle;
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    long accept(String service, int timeoutMs) {
        if (CFunction.inCallback()) {
            return refuseInCallback("mancom_accept");
        }
        try {
            NativeListener l;
            synchronized (this) {
                l = listeners.get(service);
            }
            if (l == null) {
                long h = listen(service, timeoutMs);
                if (h < 0) {
                    return h;
                }
                l = (NativeListener) handles.get(h);
            }
            BlockingConnection c;
            try {
                c = mancom.accept(service, duration(timeoutMs));
            } catch (ManComException e) {
                if (l == null || l.closed) {
                    return Errors.fail(ErrorCode.ECLOSED, "mancom_accept: service '" + service
                            + "' stopped listening (mancom_close on its listener)");
                }
                if (e.reason() == ManComException.Reason.TIMEOUT) {
                    return Errors.fail(ErrorCode.ETIMEOUT, "mancom_accept: no connection to service '" + service
                            + "' within " + timeoutMs + " ms");
                }
                return Errors.fail(e);
            }
            NativeConnection n = new NativeConnection(c);
            n.handle = handles.add(n);
            return n.handle;
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    long connect(String service, int timeoutMs) {
        if (CFunction.inCallback()) {
            return refuseInCallback("mancom_connect");
        }
        try {
            int known = checkService("mancom_connect", service);
            if (known < 0) {
                return known;
            }
            BlockingConnection c;
            try {
                c = timeoutMs < 0 ? mancom.connect(service) : mancom.connect(service, Duration.ofMillis(timeoutMs));
            } catch (ManComException e) {
                if (e.reason() == ManComException.Reason.TIMEOUT) {
                    return Errors.fail(ErrorCode.ETIMEOUT, "mancom_connect: service '" + service + "' did not answer within "
                            + timeoutMs + " ms (" + mancom.endpoint(service) + ")");
                }
                return Errors.fail(e);
            }
            NativeConnection n = new NativeConnection(c);
            n.handle = handles.add(n);
            return n.handle;
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    long read(long conn, Pointer buf, long len, int timeoutMs) {
        if (CFunction.inCallback()) {
            return refuseInCallback("mancom_read");
        }
        NativeConnection n = connection("mancom_read", conn);
        if (n == null) {
            return ErrorCode.EBADHANDLE.code();
        }
        try {
            return n.read(buf, len, timeoutMs);
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    long write(long conn, Pointer buf, long len) {
        NativeConnection n = connection("mancom_write", conn);
        if (n == null) {
            return ErrorCode.EBADHANDLE.code();
        }
        if (n.mode == NativeConnection.Mode.BLOCKING && CFunction.inCallback()) {
            return refuseInCallback("mancom_write on a blocking connection");
        }
        try {
            return n.write(buf, len);
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    int shutdownOutput(long conn) {
        NativeConnection n = connection("mancom_shutdown_output", conn);
        if (n == null) {
            return ErrorCode.EBADHANDLE.code();
        }
        if (n.mode == NativeConnection.Mode.BLOCKING && CFunction.inCallback()) {
            return refuseInCallback("mancom_shutdown_output on a blocking connection");
        }
        try {
            return n.shutdownOutput();
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    int close(long conn) {
        Object o = handles.get(conn);
        try {
            if (o instanceof NativeListener) {
                NativeListener l = (NativeListener) o;
                handles.remove(conn);
                synchronized (this) {
                    listeners.remove(l.service, l);
                    stopListening(l); // under the lock: a poll registering its listeners sees it closed
                }
                polling.forEach(Poller::wakeup); // a poll on this handle answers POLLNVAL now
                return 0;
            }
            if (o instanceof NativeConnection) {
                NativeConnection n = (NativeConnection) o;
                if (n.mode == NativeConnection.Mode.BLOCKING) {
                    handles.remove(conn);
                }
                n.close();
                if (n.mode == NativeConnection.Mode.BLOCKING) {
                    polling.forEach(Poller::wakeup);
                }
                return 0;
            }
        } catch (Throwable t) {
            return Errors.fail(t);
        }
        return badHandle("mancom_close", conn);
    }

    /** Stops the runtime listening for {@code l}'s service; its connections close, waiting accepts end. */
    private void stopListening(NativeListener l) {
        l.closed = true;
        try {
            BlockingHooks.stopListening(mancom, l.service);
        } catch (RuntimeException e) {
            Errors.fail(e); // logs a bug; the listener is gone for C either way
        }
    }

    /**
     * {@code mancom_poll}: a {@link Poller} of the runtime over the items' blocking connections
     * and listeners, made for the call ({@link PollItems}). A {@code mancom_close} or shutdown on
     * another thread wakes it, and the items are looked up again (a closed handle is POLLNVAL).
     */
    int poll(Pointer items, int n, int timeoutMs) {
        if (CFunction.inCallback()) {
            return refuseInCallback("mancom_poll");
        }
        if (n == 0 && timeoutMs == 0) {
            return 0;
        }
        try {
            long deadline = timeoutMs < 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
            while (true) {
                try (Poller poller = mancom.newPoller()) {
                    polling.add(poller);
                    try {
                        PollItems scan = new PollItems(items, n, handles);
                        long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
                        Duration wait = scan.invalid > 0 || left <= 0 ? Duration.ZERO
                                : left == Long.MAX_VALUE ? FOREVER : Duration.ofNanos(left);
                        if (!wait.isZero() && closed) {
                            return Errors.fail(ErrorCode.ECLOSED, "mancom_poll: ManCom is shutting down");
                        }
                        scan.register(poller, this);
                        int ready = scan.report(poller.poll(wait));
                        if (ready != 0 || wait.isZero()) {
                            return ready;
                        }
                    } finally {
                        polling.remove(poller);
                    }
                }
                // Timed out, or woken by a mancom_close or the shutdown: look at the handles again.
            }
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    int endpoint(long conn, int which, Pointer out) {
        Object o = handles.get(conn);
        try {
            EndPoint ep;
            if (o instanceof NativeConnection) {
                NativeConnection c = (NativeConnection) o;
                ep = which == 0 ? c.local() : c.remote();
            } else if (o instanceof NativeListener) {
                String service = ((NativeListener) o).service;
                if (which != 0) {
                    return Errors.fail(ErrorCode.EINVAL, "mancom_conn_endpoint: a listener (service '" + service
                            + "') has no remote end; ask for MANCOM_LOCAL");
                }
                Optional<EndPoint> bound = mancom.boundEndPoint(service);
                if (bound.isEmpty()) {
                    return Errors.fail(ErrorCode.ENOTREADY, "mancom_conn_endpoint: service '" + service + "' is not bound yet");
                }
                ep = bound.get();
            } else {
                return badHandle("mancom_conn_endpoint", conn);
            }
            EndpointWriter.write(ep, out);
            return 0;
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }

    /**
     * The benchmark's probe (not in mancom.h): with {@code fn} NULL, a call that does nothing; else
     * calls the C function {@code fn} {@code n} times with a data callback's arguments.
     */
    static int ping(Pointer fn, int n) {
        if (fn == null) {
            return 0;
        }
        CFunction f = CFunction.of(fn, "bench");
        Long handle = 1L;
        Long len = 0L;
        for (int i = 0; i < n; i++) {
            f.call(handle, fn, len, null);
        }
        return n;
    }

    static int lastError(Pointer buf, int len) {
        byte[] b = Errors.last().getBytes(StandardCharsets.UTF_8);
        int n = Math.min(b.length, len - 1);
        buf.write(0, b, 0, n);
        buf.setByte(n, (byte) 0);
        return n;
    }

    // ---- helpers ----

    private NativeConnection connection(String fn, long conn) {
        Object o = handles.get(conn);
        if (o instanceof NativeConnection) {
            return (NativeConnection) o;
        }
        if (o instanceof NativeListener) {
            Errors.fail(ErrorCode.EBADHANDLE, fn + ": handle " + conn + " is a listener (service '"
                    + ((NativeListener) o).service + "'), not a connection; mancom_accept gives connections");
            return null;
        }
        badHandle(fn, conn);
        return null;
    }

    private static int badHandle(String fn, long conn) {
        return Errors.fail(ErrorCode.EBADHANDLE, fn + ": " + conn
                + " is not a live handle (never issued, or already closed with mancom_close / after its close callback)");
    }

    private int checkService(String fn, String service) {
        if (closed) {
            return Errors.fail(ErrorCode.ECLOSED, fn + ": ManCom is shutting down");
        }
        if (!mancom.services().contains(service)) {
            return Errors.fail(ErrorCode.ENOSERVICE, fn + ": unknown service '" + service
                    + "': it is not configured (known services: " + String.join(", ", mancom.services())
                    + "); add mancom.services." + service + ".endpoint to the config");
        }
        return 0;
    }

    private static int refuseInCallback(String fn) {
        return Errors.fail(ErrorCode.ESTATE, fn + " may not be called from a ManCom callback: callbacks run on the "
                + "event loop and must not block; hand the work to a thread of your own");
    }

    private static Duration duration(int timeoutMs) {
        return timeoutMs < 0 ? FOREVER : Duration.ofMillis(timeoutMs);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // unregistering never fails in a way C could act on
        }
    }
}
