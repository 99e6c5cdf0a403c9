package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.core.spi.ChannelSink;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The endpoints of a link as ManCom names them: what the transport set on the channel
 * ({@link ChannelSink#LOCAL_ENDPOINT}, {@link ChannelSink#REMOTE_ENDPOINT}: a device's path, say),
 * else the socket address as {@code tcp://HOST:PORT} (without an IPv6 zone), else the service's
 * configured endpoint. Used by the DeMuxer for connections and by monitoring for mux sessions.
 */
public final class ChannelEndPoints {
    private ChannelEndPoints() {
    }

    /** This side of {@code ch}. */
    public static EndPoint local(Channel ch, EndPoint configured) {
        return of(ch, ch.localAddress(), ChannelSink.LOCAL_ENDPOINT, configured);
    }

    /** The other side of {@code ch}. */
    public static EndPoint remote(Channel ch, EndPoint configured) {
        return of(ch, ch.remoteAddress(), ChannelSink.REMOTE_ENDPOINT, configured);
    }

    private static EndPoint of(Channel ch, SocketAddress address, AttributeKey<EndPoint> key, EndPoint configured) {
        EndPoint set = ch.hasAttr(key) ? ch.attr(key).get() : null;
        if (set != null) {
            return set;
        }
        if (address instanceof InetSocketAddress isa) {
            String host = isa.getAddress() != null ? isa.getAddress().getHostAddress() : isa.getHostString();
            int zone = host.indexOf('%');
            return EndPoint.tcp(zone >= 0 ? host.substring(0, zone) : host, isa.getPort());
        }
        return configured;
    }
}
