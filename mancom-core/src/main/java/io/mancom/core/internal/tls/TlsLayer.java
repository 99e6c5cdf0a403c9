package io.mancom.core.internal.tls;

import io.mancom.CertificateSelector;
import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.TlsCertificate;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsyncMapping;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * TLS on the links of the services that configure it: the runtime calls {@link #serve} for each
 * link a service's listener opens and wraps the sinks of the links it dials ({@link #client}), and
 * this puts the TLS handler (Netty's {@link SniHandler}, which becomes an {@link SslHandler} once
 * the client's hello named its server) in front of the runtime's handlers. The runtime's handlers
 * go in only after the handshake succeeded, so the application never sees a connection whose
 * handshake failed, and with mux on the mux session runs inside TLS.
 *
 * <p>Bytes a caller replays into the channel (a port-sharing sniffer that read the ClientHello
 * before routing) reach the TLS handler like any others: it is added at the end of the pipeline
 * as it is when the sink gets the channel, behind whatever the caller put in front.
 *
 * <h2>Failures</h2>
 * Server side: the connection is closed, counted ({@code PROTOCOL} errors of the service) and
 * logged at most once per interval per service, without a stack trace. Client side: the dial fails
 * with a {@link ManComException} ({@code PROTOCOL}, or {@code TIMEOUT}) that names the service, the
 * host verified and the trust source.
 *
 * <p>Thread-safe; the per-service state is made at construction (server) or on first dial (client).
 */
public final class TlsLayer {
    /** A service that needs no TLS costs one map look-up per link. */
    public static final TlsLayer NONE = new TlsLayer();
    private static final int MAX_CLIENT_HELLO = 64 * 1024;

    private final Map<String, ServerTls> servers;
    /** Per service, made on its first dial (empty: the service dials without TLS); files are read once. */
    private final Map<String, java.util.Optional<ClientTls>> clients = new ConcurrentHashMap<>();
    private final CertificateSelector selector;
    private final Executor blocking;
    private final Consumer<String> count;
    private final FailureLog failures = new FailureLog(10, TimeUnit.SECONDS);

    private TlsLayer() {
        this.servers = Map.of();
        this.selector = null;
        this.blocking = Runnable::run;
        this.count = s -> { };
    }

    /**
     * @param services every service of the runtime
     * @param selector the application's certificate selector, or null
     * @param blocking where the selector runs (not an event loop)
     * @param count    counts one failed server handshake of a service (monitoring)
     * @throws ConfigException if a configured key pair cannot be read (the loader checks it first;
     *                         this catches settings that did not come through it)
     */
    public TlsLayer(Map<String, ServiceSettings> services, CertificateSelector selector, Executor blocking,
                    Consumer<String> count) {
        Map<String, ServerTls> m = new TreeMap<>();
        services.forEach((name, s) -> {
            TlsSettings t = TlsSettings.of(s);
            if (t.terminates()) {
                try {
                    m.put(name, new ServerTls(name, t));
                } catch (Pem.PemException e) {
                    throw Settings.of(s).error("tls.cert", e.getMessage());
                }
            }
        });
        this.servers = Map.copyOf(m);
        this.selector = selector;
        this.blocking = blocking;
        this.count = count;
    }

    /**
     * Puts TLS on a link {@code service}'s listener opened and runs {@code open} once the
     * handshake succeeded; without TLS for the service, runs {@code open} now. On the link's loop.
     */
    public void serve(ServiceSettings service, Channel ch, Runnable open) {
        ServerTls server = servers.get(service.name());
        if (server == null) {
            open.run();
            return;
        }
        long timeout = server.settings().handshakeTimeout().toMillis();
        SniHandler sni = new SniHandler(mapping(server), MAX_CLIENT_HELLO, timeout) {
            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                SslHandler h = super.newSslHandler(context, allocator);
                h.setHandshakeTimeoutMillis(timeout);
                return h;
            }
        };
        ch.pipeline().addLast("mancom-tls", sni);
        ch.pipeline().addLast(HandshakeGate.NAME, new HandshakeGate(open, cause -> {
            count.accept(service.name());
            failures.failed(service.name(), ch.remoteAddress(), cause);
        }));
        ch.read();
    }

    /** A sink that puts TLS on each link before handing it to {@code sink} (mux links a listener opens). */
    public ChannelSink server(ChannelSink sink) {
        if (!servers.containsKey(sink.settings().name())) {
            return sink;
        }
        return new Wrapped(sink) {
            @Override
            public void channelOpened(Channel ch) {
                serve(sink.settings(), ch, () -> sink.channelOpened(ch));
            }
        };
    }

    /**
     * A sink that puts client TLS on each link this runtime dials before handing it to {@code sink};
     * a failed handshake closes the link and goes to {@code failed} instead. The sink itself
     * when the service has no TLS (or passes it through).
     */
    public ChannelSink client(ChannelSink sink, Consumer<Throwable> failed) {
        ServiceSettings s = sink.settings();
        ClientTls c = clients.computeIfAbsent(s.name(), n -> {
            TlsSettings t = TlsSettings.of(s);
            return t.terminates() ? java.util.Optional.of(new ClientTls(n, t)) : java.util.Optional.empty();
        }).orElse(null);
        if (c == null) {
            return sink;
        }
        return new Wrapped(sink) {
            @Override
            public void channelOpened(Channel ch) {
                dial(c, s, ch, () -> sink.channelOpened(ch), failed);
            }
        };
    }

    private void dial(ClientTls c, ServiceSettings s, Channel ch, Runnable open, Consumer<Throwable> failed) {
        String host = host(c.settings(), s.endpoint());
        int port = ch.remoteAddress() instanceof InetSocketAddress a ? a.getPort() : -1;
        SslHandler h;
        try {
            h = c.context().newHandler(ch.alloc(), host, port);
        } catch (Exception e) {
            ch.close();
            failed.accept(new ManComException(ManComException.Reason.CONFIG, "service '" + s.name()
                    + "': cannot set up TLS: " + FailureLog.reason(e), e));
            return;
        }
        h.setHandshakeTimeoutMillis(Math.min(c.settings().handshakeTimeout().toMillis(), s.connectTimeout().toMillis()));
        ch.pipeline().addLast("mancom-tls", h);
        ch.pipeline().addLast(HandshakeGate.NAME, new HandshakeGate(open,
                cause -> failed.accept(clientFailure(c, s, host, port, cause))));
        ch.read();
    }

    /** The name a client sends and verifies: {@code server-name}, else the endpoint's host (loopback for a wildcard). */
    static String host(TlsSettings t, EndPoint endpoint) {
        if (t.serverName() != null) {
            return t.serverName();
        }
        String host = endpoint.address() instanceof TcpAddress a ? a.host() : "localhost";
        return switch (host) {
            case "0.0.0.0" -> "127.0.0.1";
            case "::" -> "::1";
            default -> host;
        };
    }

    private static ManComException clientFailure(ClientTls c, ServiceSettings s, String host, int port, Throwable cause) {
        String what = "TLS handshake with service '" + s.name() + "' at " + host + ":" + port + " failed: ";
        if (cause instanceof io.netty.handler.ssl.SslHandshakeTimeoutException) {
            return new ManComException(ManComException.Reason.TIMEOUT, what + "no answer within the handshake"
                    + " timeout. Does the server speak TLS on that port?", cause);
        }
        String explained = null;
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().startsWith("the server's certificate")) {
                explained = t.getMessage();
                break;
            }
        }
        String reason = explained != null ? explained : FailureLog.reason(cause);
        if (reason.contains("certificate_required") || reason.contains("bad_certificate")) {
            reason += c.settings().cert() == null ? ". The server wants a client certificate: set tls.cert and tls.key"
                    : ". The server did not accept the client certificate tls.cert = " + c.settings().cert();
        } else if (reason.contains("handshake_failure") && c.settings().cert() == null) {
            // TLS 1.2 servers answer a missing client certificate with this generic alert.
            reason += ". If the server requires a client certificate: set tls.cert and tls.key";
        } else if (cause instanceof java.nio.channels.ClosedChannelException) {
            reason = "the server closed the connection during the handshake. Does it speak TLS, and does it want a"
                    + " client certificate?";
        }
        return new ManComException(ManComException.Reason.PROTOCOL, what + reason, cause);
    }

    private AsyncMapping<String, SslContext> mapping(ServerTls server) {
        return (serverName, promise) -> {
            if (selector == null) {
                return complete(promise, server, server.defaultContext(), serverName);
            }
            blocking.execute(() -> {
                try {
                    TlsCertificate chosen = selector.select(serverName);
                    complete(promise, server, chosen == null ? server.defaultContext() : server.contextFor(chosen),
                            serverName);
                } catch (Throwable t) {
                    promise.tryFailure(new javax.net.ssl.SSLException("the certificate selector failed for server name '"
                            + serverName + "': " + FailureLog.reason(t), t));
                }
            });
            return promise;
        };
    }

    private static Future<SslContext> complete(Promise<SslContext> promise, ServerTls server, SslContext ctx,
                                               String serverName) {
        if (ctx == null) {
            promise.tryFailure(new javax.net.ssl.SSLException("no certificate for server name '" + serverName
                    + "': the selector gave none and service '" + server.service() + "' has no tls.cert"));
        } else {
            promise.trySuccess(ctx);
        }
        return promise;
    }

    /** A sink that delegates everything but {@code channelOpened}. */
    private abstract static class Wrapped implements ChannelSink {
        private final ChannelSink d;

        Wrapped(ChannelSink d) {
            this.d = d;
        }

        @Override
        public ServiceSettings settings() {
            return d.settings();
        }

        @Override
        public String service() {
            return d.service();
        }
    }
}
