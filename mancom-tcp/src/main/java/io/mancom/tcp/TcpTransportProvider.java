package io.mancom.tcp;

import io.mancom.TransportType;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.spi.Transport;
import io.mancom.spi.TransportContext;
import io.mancom.spi.TransportProvider;
import io.mancom.tcp.internal.TcpTransport;

/**
 * The {@code tcp://host:port} transport. Listening services bind a server socket and every
 * accepted socket is a connection; clients dial with the service's {@code connect-timeout}.
 *
 * <p>Per-service options live in the service's {@code tcp} block ({@code backlog},
 * {@code no-delay}, {@code keep-alive}); see {@code reference.conf}.
 */
public final class TcpTransportProvider implements TransportProvider {

    /** For {@link java.util.ServiceLoader}; cheap, does no I/O. */
    public TcpTransportProvider() {
    }


    @Override
    public String scheme() {
        return "tcp";
    }

    @Override
    public TransportType type() {
        return TransportType.TCP;
    }

    @Override
    public Transport create(TransportContext context) {
        return new TcpTransport(context.unwrap(NettyRuntime.class));
    }
}
