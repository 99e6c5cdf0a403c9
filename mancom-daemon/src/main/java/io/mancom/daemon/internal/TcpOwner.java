package io.mancom.daemon.internal;

import io.mancom.EndPoint;
import io.mancom.TcpAddress;
import io.mancom.core.internal.config.ScopeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Owns the listening socket of one TCP service with {@code mux} off and hands every accepted
 * connection to an attached process as a file descriptor (docs/daemon.md, "ManCom-Carry: fds").
 *
 * <h2>Accepting without reading</h2>
 * The listener is a raw {@link EpollServerSocketChannel} registered on one loop without a
 * {@code ServerBootstrap}: the accepted {@link EpollSocketChannel}s reach {@link Acceptor} as
 * messages and are never registered, so the daemon never reads a byte of them; their bytes wait
 * in the kernel until the process that adopts the descriptor reads them. The daemon's copy is
 * closed with {@code unsafe().closeForcibly()} once the process has acknowledged it.
 *
 * <h2>Holding and handing over</h2>
 * Connections wait in a queue bounded by {@code hold.connections} and {@code hold.timeout}
 * (counted from the accept); one past either is closed with one log line. The attached
 * processes ({@link FdAttach}) take turns (round robin), each with at most
 * {@link FdAttach#MAX_UNACKED} descriptors sent and not acknowledged. When an attach connection
 * ends, what it had not acknowledged goes back to the front of the queue, oldest first.
 *
 * <h2>Threading</h2>
 * Every piece of state is confined to the listener's event loop ({@link #loop}); attach
 * connections live on other loops and hand their events over with {@code execute}. The public
 * methods may be called from any thread; {@link #start()} and {@link #close()} block (not on an
 * event loop of the daemon).
 */
final class TcpOwner implements Owner {
    private static final Logger log = LoggerFactory.getLogger(TcpOwner.class);

    private volatile ServiceSettings service;
    private volatile ScopeSettings scope;
    private final EventLoop loop;
    private final EpollServerSocketChannel server = new EpollServerSocketChannel();
    private final Deque<Held> held = new ArrayDeque<>();
    private final List<FdAttach> attaches = new ArrayList<>();
    private int next;
    private boolean closed;

    // Figures, written on the loop and read racily by status().
    private volatile int attachedNow;
    private volatile int heldNow;
    private volatile long handedOver;
    private volatile long droppedTimeout;
    private volatile long droppedCount;
    private volatile EndPoint bound;
    private volatile String notReady = "starting";

    TcpOwner(ServiceSettings service, EventLoop loop) {
        this.service = service;
        this.scope = ScopeSettings.of(service);
        this.loop = loop;
    }

    /**
     * Binds the endpoint with the service's {@code tcp.backlog}. A failure (port taken, address
     * not local) leaves the owner not ready with the reason, and is logged: the daemon goes on
     * serving its other services. Blocks until bound or failed.
     */
    TcpOwner start() {
        TcpAddress addr = (TcpAddress) service.endpoint().address();
        Settings tcp = Settings.of(service).block("tcp");
        server.config().setOption(ChannelOption.SO_BACKLOG, tcp.getInt("backlog", 1, 65535));
        server.config().setOption(ChannelOption.SO_REUSEADDR, true);
        server.pipeline().addLast(new Acceptor());
        try {
            loop.register(server).syncUninterruptibly();
            server.bind(new InetSocketAddress(addr.host(), addr.port())).syncUninterruptibly();
            InetSocketAddress local = server.localAddress();
            bound = EndPoint.tcp(addr.host(), local.getPort());
            notReady = null;
            log.info("service {}: listening on {} for the processes that attach", service.name(), bound);
        } catch (Exception e) {
            // Not only RuntimeException: syncUninterruptibly rethrows the bind's checked failure
            // as it is (epoll's NativeIoException "Address already in use" is an IOException).
            notReady = "cannot listen on " + service.endpoint() + ": "
                    + (e.getMessage() != null ? e.getMessage() : e.toString());
            log.warn("service {}: {}", service.name(), notReady);
            log.debug("service {}: the bind failed", service.name(), e);
            server.close();
        }
        return this;
    }

    /** The settings this owner was made from (reload compares them). */
    ServiceSettings settings() {
        return service;
    }

    /**
     * Takes new settings of the same service with the same endpoint and {@code tcp} block (a
     * reload changed only allow or hold): the new {@code hold} bounds apply to connections held
     * from now on and at the next trim; the listener and every connection stay.
     */
    void update(ServiceSettings changed) {
        ScopeSettings s = ScopeSettings.of(changed);
        loop.execute(() -> {
            service = changed;
            scope = s;
            trim();
        });
    }

    @Override
    public String carry() {
        return "fds";
    }

    @Override
    public boolean serves(String name) {
        return service.name().equals(name);
    }

    @Override
    public EndPoint endpoint(String name) {
        EndPoint b = bound;
        return b != null ? b : service.endpoint();
    }

    @Override
    public String notReady(String name) {
        return notReady;
    }

    @Override
    public void attach(String name, Channel connection, Peer peer) {
        FdAttach a = new FdAttach(this, connection, peer, loop);
        connection.pipeline().addLast("fds", a);
        loop.execute(() -> {
            if (closed) {
                connection.close();
                return;
            }
            attaches.add(a);
            attachedNow = attaches.size();
        });
        connection.config().setAutoRead(true);
    }

    @Override
    public OwnerStatus status(String name) {
        return new OwnerStatus(attachedNow, heldNow, handedOver, droppedTimeout + droppedCount);
    }

    @Override
    public Map<String, Long> dropped(String name) {
        return Map.of("hold_timeout", droppedTimeout, "hold_connections", droppedCount);
    }

    @Override
    public void close() {
        Future<?> done = loop.submit(() -> {
            closed = true;
            server.close();
            for (Held h : held) {
                h.close();
            }
            held.clear();
            for (FdAttach a : attaches) {
                a.channel().close();
                a.unacked().forEach(Held::close);
                a.unacked().clear();
            }
            attaches.clear();
            attachedNow = 0;
            heldNow = 0;
        });
        if (!loop.inEventLoop()) {
            done.awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        log.info("service {}: stopped listening on {}", service.name(), endpoint(service.name()));
    }

    // ---- on the loop ----

    /** A process sent 'R': it reads descriptors now. */
    void ready(FdAttach a) {
        assert loop.inEventLoop();
        dispatch();
    }

    /** A process acknowledged the oldest descriptor sent to it: our copy can go. */
    void acked(FdAttach a) {
        assert loop.inEventLoop();
        Held h = a.unacked().poll();
        if (h == null) {
            log.warn("service {}: {} acknowledged a connection it was never given; closing its attach",
                    service.name(), a.peer());
            a.channel().close();
            return;
        }
        handedOver++;
        h.close();
        dispatch();
    }

    /** The attach connection ended: its unacknowledged connections go back to the front, in order. */
    void detached(FdAttach a) {
        assert loop.inEventLoop();
        attaches.remove(a);
        attachedNow = attaches.size();
        if (closed) {
            a.unacked().forEach(Held::close);
            a.unacked().clear();
            return;
        }
        int back = a.unacked().size();
        for (var it = a.unacked().descendingIterator(); it.hasNext(); ) {
            Held h = it.next();
            held.addFirst(h);
            h.arm();
        }
        a.unacked().clear();
        heldNow = held.size();
        if (back > 0) {
            log.info("service {}: {} detached with {} connection(s) not taken; they go to the next process",
                    service.name(), a.peer(), back);
        }
        dispatch();
        trim();
    }

    /** Gives held connections to attached processes in turn while one has room. */
    private void dispatch() {
        while (!held.isEmpty()) {
            FdAttach to = pick();
            if (to == null) {
                break;
            }
            Held h = held.poll();
            h.disarm();
            to.give(h);
        }
        heldNow = held.size();
    }

    /** The next attach in turn that has said 'R' and has room, or null. */
    private FdAttach pick() {
        int n = attaches.size();
        for (int i = 0; i < n; i++) {
            FdAttach a = attaches.get((next + i) % n);
            if (a.canTake()) {
                next = (next + i + 1) % n;
                return a;
            }
        }
        return null;
    }

    /** Closes the newest held connections past hold.connections. */
    private void trim() {
        while (held.size() > scope.holdConnections()) {
            Held h = held.pollLast();
            // Counted before the close: whoever sees the close sees the figures too.
            heldNow = held.size();
            droppedCount++;
            h.drop("hold.connections = " + scope.holdConnections() + " reached (no process took it)");
        }
        heldNow = held.size();
    }

    private void expired(Held h) {
        if (held.remove(h)) {
            heldNow = held.size();
            droppedTimeout++;
            h.drop("hold.timeout = " + scope.holdTimeout().toMillis() + " ms passed (no process took it)");
        }
    }

    /** Takes the accepted sockets; never registers them, so nothing reads them here. */
    private final class Acceptor extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            EpollSocketChannel child = (EpollSocketChannel) msg;
            if (closed) {
                child.unsafe().closeForcibly();
                return;
            }
            Held h = new Held(child, System.nanoTime());
            held.addLast(h);
            h.arm();
            dispatch();
            trim();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // accept() failures (EMFILE...): the listener goes on; say it once per failure
            log.warn("service {}: accepting failed: {}", service.name(), cause.toString());
        }
    }

    /**
     * One accepted connection in the daemon's hands: held, or sent and not acknowledged yet.
     * Confined to the loop.
     */
    final class Held {
        private final EpollSocketChannel child;
        private final long since;
        private Future<?> timer;

        Held(EpollSocketChannel child, long since) {
            this.child = child;
            this.since = since;
        }

        EpollSocketChannel child() {
            return child;
        }

        /** Starts (again) the hold.timeout clock from the accept. */
        void arm() {
            long left = scope.holdTimeout().toNanos() - (System.nanoTime() - since);
            timer = loop.schedule(() -> expired(this), Math.max(0, left), TimeUnit.NANOSECONDS);
        }

        void disarm() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }

        String peer() {
            try {
                InetSocketAddress a = child.remoteAddress();
                return a == null ? "an unknown peer" : a.getAddress().getHostAddress() + ":" + a.getPort();
            } catch (RuntimeException e) {
                return "an unknown peer";
            }
        }

        void drop(String bound) {
            disarm();
            log.warn("service {}: closed the connection from {} after {} ms held: {}", service.name(), peer(),
                    Duration.ofNanos(System.nanoTime() - since).toMillis(), bound);
            close();
        }

        void close() {
            disarm();
            child.unsafe().closeForcibly();
        }
    }
}
