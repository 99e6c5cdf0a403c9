package io.mancom.core.internal.forward;

import io.mancom.ManComException;
import io.mancom.core.internal.config.TunnelSettings;
import io.mancom.core.internal.monitor.Monitor;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxStreamChannel;
import io.mancom.core.internal.sniff.IntervalLog;
import io.mancom.core.spi.LinkHandler;
import io.mancom.core.spi.ServiceSettings;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code handler = tunnel}: each link of a service becomes one stream on the mux session of its
 * uplink ({@code via}, a service with {@code mux = on} whose link this runtime dials, once for all
 * its streams), opened to the far service {@code tunnel.service}; the bytes are relayed both ways
 * by the forwarder's {@link RelaySide}s (no copy, half-close, backpressure). Backpressure is per
 * stream: a client that stops reading stops its stream's reader, whose credit then stops only that
 * stream's sender on the far side, so the other streams of the link go on.
 *
 * <p>A client whose stream cannot be opened (the uplink cannot be dialled, the session is at
 * {@code max-streams} or closing) is closed, counted in the service's errors and logged at most
 * once per ten seconds. A stream the far side refuses (no such service there) ends at once, and
 * so does the client's connection.
 *
 * <p>Thread-safe; one instance serves every link of its service. The client and its stream may
 * be on different event loops ({@link Forwarder#join} sets each side up on its own).
 */
public final class Tunneller implements LinkHandler {
    private static final Logger log = LoggerFactory.getLogger(Tunneller.class);

    /** The uplink's mux session: the live one, or one being dialled (shared by concurrent callers). */
    @FunctionalInterface
    public interface Uplink {
        CompletableFuture<MuxSessionHandler> session();
    }

    private final ServiceSettings service;
    private final TunnelSettings tunnel;
    private final Uplink uplink;
    private final Monitor monitor;
    private final WriteBufferWaterMark marks;
    private final IntervalLog failures = new IntervalLog(log, 10, TimeUnit.SECONDS);

    /** @throws io.mancom.ConfigException if the service's tunnel settings are missing or bad */
    public Tunneller(ServiceSettings service, Uplink uplink, Monitor monitor) {
        this.service = service;
        this.tunnel = TunnelSettings.of(service);
        if (tunnel == null) {
            throw new IllegalArgumentException("service '" + service.name() + "' has handler = " + service.handler()
                    + ", not " + TunnelSettings.HANDLER);
        }
        this.uplink = uplink;
        this.monitor = monitor;
        ServiceSettings.WriteBuffer wb = service.writeBuffer();
        this.marks = new WriteBufferWaterMark(wb.lowWater(), wb.highWater());
    }

    /** The tunnel's settings. */
    public TunnelSettings settings() {
        return tunnel;
    }

    @Override
    public void channelOpened(Channel client) {
        RelaySide front = Forwarder.takeOver(client, marks);
        uplink.session().whenComplete((mux, err) -> {
            if (err != null) {
                onLoop(client, () -> failed(client, err instanceof CompletionException c && c.getCause() != null
                        ? c.getCause() : err));
                return;
            }
            mux.openStream(tunnel.service(), new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel stream) {
                    // Nothing is read until the relay is joined; half-close as for a socket.
                    stream.config().setAutoRead(false);
                    stream.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
                }
            }).addListener((Future<MuxStreamChannel> f) -> {
                if (f.isSuccess()) {
                    MuxStreamChannel stream = f.getNow();
                    onLoop(client, () -> Forwarder.join(client, front, stream, false));
                } else {
                    onLoop(client, () -> failed(client, f.cause()));
                }
            });
        });
    }

    private static void onLoop(Channel client, Runnable task) {
        if (client.eventLoop().inEventLoop()) {
            task.run();
        } else {
            client.eventLoop().execute(task);
        }
    }

    private void failed(Channel client, Throwable cause) {
        ManComException e = cause instanceof ManComException m ? m : new ManComException(
                ManComException.Reason.UNREACHABLE, "cannot open a stream to '" + tunnel.service() + "' on the link of '"
                + tunnel.via() + "': " + cause.getMessage(), cause);
        monitor.countError(service.name(), e);
        failures.warn("service '{}' (handler = tunnel, via = {}): closed the connection from {}: {}", service.name(),
                tunnel.via(), client.remoteAddress(), e.getMessage());
        client.close();
    }
}
