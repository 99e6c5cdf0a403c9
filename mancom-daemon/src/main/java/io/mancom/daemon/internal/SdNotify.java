package io.mancom.daemon.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainDatagramChannel;
import io.netty.channel.unix.DomainSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * systemd's readiness protocol ({@code sd_notify(3)}): when {@code NOTIFY_SOCKET} names a Unix
 * datagram socket, each state change is one datagram of {@code KEY=VALUE} lines sent there
 * ({@code READY=1}, {@code RELOADING=1}, {@code STOPPING=1}, {@code STATUS=...}). Without
 * {@code NOTIFY_SOCKET} every call does nothing. A name starting with {@code @} is an abstract
 * socket (Linux): sent with a leading NUL, as systemd means it.
 *
 * <p>Thread-safe. {@link #send} waits up to a second for the datagram to leave; a failure is
 * logged once per call and not thrown: readiness reporting never stops the daemon.
 */
final class SdNotify implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SdNotify.class);

    private final DomainSocketAddress target;
    private final Channel channel;

    private SdNotify(DomainSocketAddress target, Channel channel) {
        this.target = target;
        this.channel = channel;
    }

    /** For {@code notifySocket} (the value of NOTIFY_SOCKET, or null). */
    static SdNotify open(String notifySocket, EventLoopGroup group) {
        if (notifySocket == null || notifySocket.isEmpty()) {
            return new SdNotify(null, null);
        }
        String path = notifySocket.startsWith("@") ? "\0" + notifySocket.substring(1) : notifySocket;
        try {
            // Connected, so each state is a plain write (an unbound, unconnected datagram channel
            // is not active in Netty and refuses addressed packets).
            Channel ch = new Bootstrap().group(group).channel(EpollDomainDatagramChannel.class)
                    .handler(new ChannelInboundHandlerAdapter()).connect(new DomainSocketAddress(path))
                    .syncUninterruptibly().channel();
            return new SdNotify(new DomainSocketAddress(path), ch);
        } catch (RuntimeException e) {
            log.warn("cannot tell systemd about our state at NOTIFY_SOCKET={}: {}", notifySocket, e.toString());
            return new SdNotify(null, null);
        }
    }

    /** Sends {@code state} (for example "READY=1\nSTATUS=serving 3 services"). */
    void send(String state) {
        if (channel == null) {
            return;
        }
        var done = channel.writeAndFlush(Unpooled.copiedBuffer(state, StandardCharsets.UTF_8));
        if (!done.awaitUninterruptibly(1, TimeUnit.SECONDS) || !done.isSuccess()) {
            log.warn("cannot tell systemd '{}' at {}: {}", state.replace('\n', ' '), target.path().replace('\0', '@'),
                    done.cause() == null ? "timed out" : done.cause().toString());
        }
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
    }
}
