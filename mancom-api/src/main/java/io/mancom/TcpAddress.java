package io.mancom;

import java.net.InetSocketAddress;

/**
 * A TCP socket address: a host name or IP literal and a port.
 *
 * <p>Port 0 on a listening service means "any free port"; the bound port is then reported by
 * {@link ManCom#boundEndPoint(String)}.
 *
 * @param host a host name or IP literal, never empty ({@code 0.0.0.0} listens on every interface)
 * @param port 0 to 65535
 */
public record TcpAddress(String host, int port) implements Address {

    public TcpAddress {
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException("tcp endpoint needs a host: tcp://HOST:PORT");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("tcp port out of range 0..65535: " + port);
        }
    }

    /** An unresolved {@link InetSocketAddress} for this host and port. */
    public InetSocketAddress toSocketAddress() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    @Override
    public TransportType type() {
        return TransportType.TCP;
    }

    @Override
    public String toUri() {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return "tcp://" + h + ":" + port;
    }

    @Override
    public String toString() {
        return toUri();
    }
}
