package io.mancom.core.internal;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.TransportType;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.mancom.core.internal.config.ScopeSettings;
import io.mancom.core.internal.link.ReliableLinkSink;
import io.mancom.core.spi.ChannelSink;
import io.mancom.spi.Transport;
import io.mancom.core.spi.ServiceSettings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The client side: dials a service's endpoint (or where this runtime serves it), or opens a
 * stream on its shared link, dialling the link first when there is none; concurrent connects of a
 * shared link share one dial.
 *
 * <p>Threading: callable from any thread; shared-link state is changed under the runtime's lock,
 * and nothing waits while holding it. Each call completes its {@code result} future exactly once:
 * with the connection, or with a {@link ManComException} (UNREACHABLE, TIMEOUT, CLOSED...).
 * A link or stream that arrives after the caller gave up is closed, not leaked.
 */
final class Dialler {
    /** What the dialler needs of the runtime. */
    interface Links {
        /** Whether the runtime is closed (new dials then fail with CLOSED). Under the lock. */
        boolean closed();

        /** Makes {@code ch} a client connection of {@code s} with {@code inbound}. On its event loop. */
        void openClient(Service s, Channel ch, Inbound inbound);

        /** {@code sink} behind client TLS when its service has it; a failed handshake completes {@code result}. */
        default ChannelSink withTls(ChannelSink sink, CompletableFuture<?> result) {
            return sink;
        }

        /** A sink that puts a mux session on a link this runtime dialled for {@code g}. */
        ChannelSink dialedLinkSink(LinkGroup g, CompletableFuture<MuxSessionHandler> session);
    }

    private final Object lock;
    private final TransportRegistry transports;
    private final Links links;

    Dialler(Object lock, TransportRegistry transports, Links links) {
        this.lock = lock;
        this.transports = transports;
        this.links = links;
    }

    /**
     * A callback client of {@code s}: the future completes when the connection is open. A plain
     * TCP client whose config sets {@code reconnect} on dials again when its link is lost
     * ({@link ReconnectingClient}).
     */
    CompletableFuture<Connection> connectAsync(Service s, DataReceiver receiver) {
        if (s.group == null && s.settings.endpoint().type() == TransportType.TCP && s.settings.reconnectsClients()) {
            return new ReconnectingClient(s, receiver, this).start();
        }
        CompletableFuture<Connection> result = new CompletableFuture<>();
        dial(s, s.settings.connectTimeout(), ch -> clientInbound(s, receiver, result), result);
        return result;
    }

    /** The inbound of a callback client whose acceptor completes {@code result}. */
    static CallbackInbound clientInbound(Service s, DataReceiver receiver, CompletableFuture<Connection> result) {
        return new CallbackInbound(clientCallbacks(receiver, result), s.settings.blocking().readBuffer());
    }

    /**
     * A client's callbacks: its receiver, and acceptors that complete the connect and then tell the
     * receiver (both before any data: acceptors run first on the connection's lane).
     */
    private static Callbacks clientCallbacks(DataReceiver receiver, CompletableFuture<Connection> result) {
        List<Callbacks.Acceptor> completer = List.of(new Callbacks.Acceptor(result::complete, null),
                new Callbacks.Acceptor(receiver::onOpen, null));
        Callbacks.Receiver r = new Callbacks.Receiver(receiver, null);
        return new Callbacks() {
            @Override
            public List<Acceptor> acceptors() {
                return completer;
            }

            @Override
            public Receiver receiver() {
                return r;
            }
        };
    }

    /** A blocking client of {@code s}; the future completes when the connection is open. */
    CompletableFuture<BlockingAdapter> connectBlocking(Service s, Duration timeout) {
        CompletableFuture<BlockingAdapter> result = new CompletableFuture<>();
        dial(s, timeout, ch -> new BlockingAdapter(s.settings.blocking().readBuffer(), result::complete), result);
        return result;
    }

    /** Opens a link or stream of {@code s}; {@code inbound} makes its connection's events go somewhere. */
    void dial(Service s, Duration timeout, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
        synchronized (lock) {
            if (links.closed()) {
                result.completeExceptionally(new ManComException(ManComException.Reason.CLOSED, "this ManCom is closed"));
                return;
            }
        }
        if (s.group != null) {
            dialStream(s, timeout, inbound, result);
            return;
        }
        connectLink(s, s.settings.endpoint(), s.ready, new ClientSink(s, inbound, result), timeout, result);
    }

    /**
     * Dials {@code configured} (or, when this runtime serves it, where it is bound) and hands the
     * link to {@code sink}; a failure completes {@code result}.
     */
    private void connectLink(Service s, EndPoint configured, CompletableFuture<EndPoint> ready, ChannelSink sink,
                             Duration timeout, CompletableFuture<?> result) {
        EndPoint target = configured;
        EndPoint bound = Service.bound(ready);
        if (bound != null) {
            target = dialable(bound);
        } else if (target.address() instanceof TcpAddress tcp && tcp.port() == 0) {
            result.completeExceptionally(ephemeral(s, target));
            return;
        }
        if (!(target.address() instanceof TcpAddress) && ScopeSettings.of(s.settings).isSystem()) {
            // The daemon has the device open; opening it here too would fight it for the line.
            result.completeExceptionally(new ManComException(ManComException.Reason.NOT_READY, "service '" + s.name()
                    + "' has scope = system: the daemon owns " + target + ", so this process cannot open it;"
                    + " serve it with registerAcceptor/registerDataReceiver/accept (the daemon hands its connections"
                    + " over), or set scope = process"));
            return;
        }
        try {
            Transport transport = transports.forEndPoint(target, s.name());
            EndPoint dialTarget = target;
            // link = reliable: the session layer goes between the transport and the sink (TLS, when
            // configured, runs on top of it); it dials again to resume.
            ChannelSink link = ReliableLinkSink.wrap(links.withTls(sink, result), true, result::completeExceptionally,
                    again -> transport.connect(dialTarget, again, timeout));
            transport.connect(target, link, timeout).whenComplete((v, err) -> {
                if (err != null) {
                    result.completeExceptionally(Futures.unwrap(err));
                }
            });
        } catch (ManComException e) {
            result.completeExceptionally(e);
        }
    }

    /** A wildcard bind address is not something to dial: use loopback instead. */
    static EndPoint dialable(EndPoint bound) {
        if (bound.address() instanceof TcpAddress tcp && (tcp.host().equals("0.0.0.0") || tcp.host().equals("::"))) {
            return EndPoint.tcp(tcp.host().equals("::") ? "::1" : "127.0.0.1", tcp.port());
        }
        return bound;
    }

    private static ManComException ephemeral(Service s, EndPoint target) {
        return new ManComException(ManComException.Reason.UNREACHABLE,
                "cannot connect to service '" + s.name() + "': its endpoint " + target + " has port 0 (any free port), "
                        + "which only this runtime can resolve, and this runtime does not serve it yet; serve it here "
                        + "first (awaitReady), or give mancom.services." + s.name() + ".endpoint a fixed port");
    }

    // ---- shared links ----

    /** Opens a stream of {@code s} on its group's link, dialling the link first if needed. */
    private void dialStream(Service s, Duration timeout, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
        session(s, timeout).whenComplete((mux, err) -> {
            if (err != null) {
                result.completeExceptionally(Futures.unwrap(err));
            } else {
                openStream(mux, s, inbound, result);
            }
        });
    }

    /**
     * The mux session of {@code s}'s shared link: the live one, the one being dialled, or a new
     * dial (a tunnel's uplink, {@code handler = tunnel}, opens its streams on it).
     */
    CompletableFuture<MuxSessionHandler> session(Service s, Duration timeout) {
        LinkGroup g = s.group;
        CompletableFuture<MuxSessionHandler> session;
        synchronized (lock) {
            if (links.closed()) {
                return CompletableFuture.failedFuture(new ManComException(ManComException.Reason.CLOSED,
                        "this ManCom is closed"));
            }
            MuxSessionHandler live = g.liveSession();
            if (live != null) {
                session = CompletableFuture.completedFuture(live);
            } else if (g.symmetric && g.listener != null) {
                // This runtime has the device open (or is reopening it): opening it a second time
                // would only fail as busy, so wait for the listener's next link instead.
                if (g.nextServed == null || g.nextServed.isDone()) {
                    g.nextServed = new CompletableFuture<>();
                }
                session = g.nextServed.copy().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .exceptionally(t -> {
                            throw new CompletionException(Futures.unwrap(t) instanceof TimeoutException
                                    ? new ManComException(ManComException.Reason.TIMEOUT, "service '" + s.name()
                                    + "': the shared link " + g.endpoint + " is not open after " + timeout
                                    + Binder.listenerStatus(s)) : Futures.unwrap(t));
                        });
            } else if (g.dialed != null && !g.dialed.isDone()) {
                session = g.dialed; // another connect is dialling the link already
            } else {
                session = new CompletableFuture<>();
                g.dialed = session;
                connectLink(s, g.endpoint, g.ready, links.dialedLinkSink(g, session), timeout, session);
            }
        }
        return session;
    }

    private void openStream(MuxSessionHandler mux, Service s, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
        mux.openStream(s.name(), new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                if (result.isDone()) {
                    ch.close(); // the caller gave up waiting
                    return;
                }
                links.openClient(s, ch, inbound.apply(ch));
            }
        }).addListener(f -> {
            if (!f.isSuccess()) {
                result.completeExceptionally(Futures.asManCom(f.cause()));
            }
        });
    }

    /** A stream of {@code s} to the peer at the other end of {@code via}'s link. */
    CompletableFuture<Connection> connectAsync(Service s, DataReceiver receiver, Connection via) {
        CompletableFuture<Connection> result = new CompletableFuture<>();
        if (!(via instanceof ChannelConnection c) || !(c.channel() instanceof MuxStreamChannel stream)) {
            throw new IllegalArgumentException("connection " + via + " is not a stream of a multiplexed link; "
                    + "streams can only be opened over links with mux on");
        }
        if (s.group == null || !s.group.members.containsKey(via.service())) {
            throw new IllegalArgumentException("service '" + s.name() + "' does not share the link of " + via
                    + " (mux on, same endpoint)");
        }
        openStream(stream.session(), s, ch -> clientInbound(s, receiver, result), result);
        return result;
    }

    /** Where a client link of one service goes: to a new client connection, unless the caller gave up. */
    private final class ClientSink implements ChannelSink {
        private final Service s;
        private final Function<Channel, Inbound> inbound;
        private final CompletableFuture<?> result;

        ClientSink(Service s, Function<Channel, Inbound> inbound, CompletableFuture<?> result) {
            this.s = s;
            this.inbound = inbound;
            this.result = result;
        }

        @Override
        public String service() {
            return s.name();
        }

        @Override
        public ServiceSettings settings() {
            return s.settings;
        }

        @Override
        public void channelOpened(Channel ch) {
            if (result.isDone()) {
                // The caller gave up (timeout) before the link came: do not leak it.
                ch.close();
                return;
            }
            links.openClient(s, ch, inbound.apply(ch));
        }
    }
}
