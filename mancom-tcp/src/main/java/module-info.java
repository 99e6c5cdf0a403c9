/**
 * The {@code tcp://host:port} transport, on the runtime's Netty event loops. Found with
 * {@link java.util.ServiceLoader} as a {@link io.mancom.spi.TransportProvider}; the jar works the
 * same on the class path.
 */
module io.mancom.tcp {
    requires transitive io.mancom.api; // the provider's signatures
    requires io.mancom.core;
    requires com.sun.jna; // SO_ATTACH_FILTER on the listening socket
    requires io.netty.handler; // IdleStateHandler: tcp.idle-timeout, tcp.read-timeout
    requires org.slf4j;
    requires io.netty.transport.classes.epoll; // PeerFilters: whether listeners are native sockets

    exports io.mancom.tcp;

    provides io.mancom.spi.TransportProvider with io.mancom.tcp.TcpTransportProvider;
}
