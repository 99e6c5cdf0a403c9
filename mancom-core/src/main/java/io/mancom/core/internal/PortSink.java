package io.mancom.core.internal;

import io.mancom.core.internal.config.Origins;
import io.mancom.core.internal.monitor.Monitor;
import io.mancom.core.internal.sniff.IntervalLog;
import io.mancom.core.internal.sniff.SniffHandler;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.ServiceSettings;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Where the connections of a {@link PortGroup}'s listener go: each gets a {@link SniffHandler},
 * and then goes to the member whose rule took it, with the bytes the sniffer read delivered first,
 * unchanged; or is closed, counted ({@code mancom_sniff_refused_total}) and logged at most once per
 * ten seconds per port. Thread-safe; the callbacks run on each connection's loop.
 */
final class PortSink implements ChannelSink, SniffHandler.Outcome {
    private static final Logger log = LoggerFactory.getLogger(PortSink.class);

    private final PortGroup port;
    private final BiConsumer<Service, Channel> serve;
    private final Supplier<Monitor> monitor;
    private final IntervalLog refusals = new IntervalLog(log, 10, TimeUnit.SECONDS);

    /**
     * @param serve   hands a channel to a member, as its own listener would (on the channel's loop)
     * @param monitor the runtime's counters
     */
    PortSink(PortGroup port, BiConsumer<Service, Channel> serve, Supplier<Monitor> monitor) {
        this.port = port;
        this.serve = serve;
        this.monitor = monitor;
    }

    @Override
    public ServiceSettings settings() {
        return port.members.get(0).settings;
    }

    @Override
    public String service() {
        return port.members.get(0).name();
    }

    @Override
    public void channelOpened(Channel ch) {
        ch.pipeline().addLast("mancom-sniff", new SniffHandler(port.router, port.plan.sniff().maxBytes(),
                port.plan.sniff().timeout(), port.onTimeout, this));
        if (!ch.config().isAutoRead()) {
            ch.read();
        }
    }

    @Override
    public void routed(Channel ch, int rule, ByteBuf first) {
        Service s = port.members.get(rule);
        if (s.mode == Service.Mode.NONE) {
            int bytes = first.readableBytes();
            first.release();
            ch.close();
            count(ch, "not-served", "its rule " + port.plan.rules().get(rule).describe() + " chose service '" + s.name()
                    + "', which no registration serves now", bytes);
            return;
        }
        try {
            serve.accept(s, ch);
        } catch (RuntimeException e) {
            first.release();
            ch.close();
            log.warn("service '{}' could not take a connection from {}: {}", s.name(), ch.remoteAddress(), e.toString());
            return;
        }
        if (first.isReadable()) {
            // From the head: whatever the service put in front (TLS, framing) sees them first.
            ch.pipeline().fireChannelRead(first);
            ch.pipeline().fireChannelReadComplete();
        } else {
            first.release();
        }
    }

    @Override
    public void refused(Channel ch, SniffHandler.Refusal why, int bytes) {
        count(ch, why.name().toLowerCase(Locale.ROOT).replace('_', '-'), why.why, bytes);
    }

    private void count(Channel ch, String reason, String why, int bytes) {
        monitor.get().ports().refused(port.endpoint().toString(), reason);
        refusals.warn("port {} ({}) closed a connection from {} after {} bytes: {} (sniff.max-bytes = {}, sniff.timeout"
                        + " = {})", ch.localAddress(), port.names(), ch.remoteAddress(), bytes, why,
                Origins.bytes(port.plan.sniff().maxBytes()), Origins.duration(port.plan.sniff().timeout()));
    }
}
