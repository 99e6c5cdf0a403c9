package io.mancom.core.internal.forward;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.TcpAddress;
import io.mancom.core.internal.config.ForwardSettings;
import io.mancom.core.internal.monitor.Monitor;
import io.mancom.core.internal.sniff.IntervalLog;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.LinkHandler;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.spi.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.NetUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * {@code handler = forward}: relays each link of a service to its {@code forward} endpoint, with
 * half-close and backpressure both ways ({@link RelaySide}), and optionally a PROXY protocol v2
 * header first ({@link ProxyV2}). A TCP backend is dialled on the client's own event loop, so the
 * relay never crosses threads; any other ManCom endpoint (a serial line, ...) is opened through its
 * transport.
 *
 * <p>A backend that cannot be reached closes the client; the failure counts in the service's errors
 * ({@code UNREACHABLE}, {@code TIMEOUT}) and is logged at most once per ten seconds. The relayed
 * channels are not counted as the service's connections.
 *
 * <p>Thread-safe; one instance serves every link of its service.
 */
public final class Forwarder implements LinkHandler {
    private static final Logger log = LoggerFactory.getLogger(Forwarder.class);

    /** How a non-TCP backend's transport is found (the runtime's registry). */
    @FunctionalInterface
    public interface Transports {
        Transport forEndPoint(EndPoint endpoint, String service) throws ManComException;
    }

    private final ServiceSettings service;
    private final ForwardSettings forward;
    private final NettyRuntime runtime;
    private final Transports transports;
    private final Monitor monitor;
    private final WriteBufferWaterMark marks;
    private final Bootstrap tcp;
    /** A TCP backend given by IP address, resolved once; null for a host name (resolved per connection). */
    private final InetSocketAddress literal;
    private final IntervalLog failures = new IntervalLog(log, 10, TimeUnit.SECONDS);

    /** @throws io.mancom.ConfigException if the service's forward settings are missing or bad */
    public Forwarder(ServiceSettings service, NettyRuntime runtime, Transports transports, Monitor monitor) {
        this.service = service;
        this.forward = ForwardSettings.of(service);
        if (forward == null) {
            throw new IllegalArgumentException("service '" + service.name() + "' has handler = " + service.handler()
                    + ", not forward");
        }
        this.runtime = runtime;
        this.transports = transports;
        this.monitor = monitor;
        ServiceSettings.WriteBuffer wb = service.writeBuffer();
        this.marks = new WriteBufferWaterMark(wb.lowWater(), wb.highWater());
        if (forward.endpoint().address() instanceof TcpAddress) {
            this.tcp = new Bootstrap()
                    .channel(runtime.socketChannelType())
                    .option(ChannelOption.AUTO_READ, false)
                    .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.ALLOCATOR, runtime.alloc())
                    .option(ChannelOption.WRITE_BUFFER_WATER_MARK, marks)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                            (int) Math.min(Integer.MAX_VALUE, service.connectTimeout().toMillis()))
                    .handler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                        }
                    });
        } else {
            this.tcp = null;
        }
        this.literal = literal(forward.endpoint());
    }

    /** The backend's socket address when it is given by IP address (no lookup, no resolver per connection). */
    private static InetSocketAddress literal(EndPoint backend) {
        if (backend.address() instanceof TcpAddress a
                && (NetUtil.isValidIpV4Address(a.host()) || NetUtil.isValidIpV6Address(a.host()))) {
            return new InetSocketAddress(a.host(), a.port());
        }
        return null;
    }

    @Override
    public void channelOpened(Channel client) {
        RelaySide front = takeOver(client, marks);
        if (tcp != null) {
            TcpAddress a = (TcpAddress) forward.endpoint().address();
            Bootstrap b = tcp.clone(client.eventLoop());
            (literal != null ? b.connect(literal) : b.connect(a.host(), a.port())).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    connected(client, front, f.channel());
                } else {
                    failed(client, f.cause());
                }
            });
            return;
        }
        try {
            transports.forEndPoint(forward.endpoint(), service.name()).connect(forward.endpoint(), new ChannelSink() {
                @Override
                public ServiceSettings settings() {
                    return service;
                }

                @Override
                public String service() {
                    return service.name();
                }

                @Override
                public void channelOpened(Channel backend) {
                    backend.config().setAutoRead(false);
                    client.eventLoop().execute(() -> connected(client, front, backend));
                }
            }, service.connectTimeout()).whenComplete((ok, err) -> {
                if (err != null) {
                    client.eventLoop().execute(() -> failed(client, err));
                }
            });
        } catch (ManComException e) {
            failed(client, e);
        }
    }

    /**
     * Makes {@code client} the front of a relay: half-closure, the service's marks, not reading
     * until its peer is there. On the client's loop.
     */
    static RelaySide takeOver(Channel client, WriteBufferWaterMark marks) {
        assert client.eventLoop().inEventLoop();
        client.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        client.config().setWriteBufferWaterMark(marks);
        client.config().setAutoRead(false);
        RelaySide front = new RelaySide();
        client.pipeline().addLast("mancom-forward", front);
        return front;
    }

    private void connected(Channel client, RelaySide front, Channel backend) {
        join(client, front, backend, forward.proxyProtocol());
    }

    /**
     * Both ends are there: join them ({@code backend} arrives with auto-read off). On the client's
     * loop; the backend's side is set up on its own loop.
     */
    static void join(Channel client, RelaySide front, Channel backend, boolean proxyProtocol) {
        if (!client.isActive()) {
            backend.close();
            front.peerReady(backend); // releases what it queued
            return;
        }
        RelaySide back = new RelaySide();
        Runnable backSide = () -> {
            backend.pipeline().addLast("mancom-forward", back);
            if (proxyProtocol) {
                // First on the wire, ahead of the bytes the front side queued.
                backend.write(ProxyV2.header(backend.alloc(), client.remoteAddress(), client.localAddress()),
                        backend.voidPromise());
            }
            back.peerReady(client);
        };
        if (backend.eventLoop().inEventLoop()) {
            backSide.run();
            front.peerReady(backend);
        } else {
            // A backend on another loop (a device channel): its side is set up there, the client's here.
            backend.eventLoop().execute(() -> {
                backSide.run();
                client.eventLoop().execute(() -> front.peerReady(backend));
            });
        }
    }

    private void failed(Channel client, Throwable cause) {
        ManComException e = cause instanceof ManComException m ? m : new ManComException(
                cause instanceof io.netty.channel.ConnectTimeoutException ? ManComException.Reason.TIMEOUT
                        : ManComException.Reason.UNREACHABLE,
                "cannot reach " + forward.endpoint() + ": " + cause.getMessage(), cause);
        monitor.countError(service.name(), e);
        failures.warn("service '{}' (handler = forward): closed the connection from {}: {}", service.name(),
                client.remoteAddress(), e.getMessage());
        client.close();
    }
}
