package io.mancom.core.spi.device;

import io.mancom.EndPoint;

import java.net.SocketAddress;
import java.util.Objects;

/**
 * The {@link SocketAddress} of a {@link DeviceChannel}: an endpoint that is not a socket. Netty
 * wants a SocketAddress for {@code localAddress()} and {@code remoteAddress()}; this one only
 * carries the endpoint (and prints it, for logs). Immutable.
 */
public final class DeviceAddress extends SocketAddress {
    private static final long serialVersionUID = 1L;

    private final transient EndPoint endpoint;
    private final String uri;

    public DeviceAddress(EndPoint endpoint) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.uri = endpoint.toString();
    }

    /** The endpoint; null only on a deserialized copy. */
    public EndPoint endpoint() {
        return endpoint;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceAddress d && d.uri.equals(uri);
    }

    @Override
    public int hashCode() {
        return uri.hashCode();
    }

    @Override
    public String toString() {
        return uri;
    }
}
