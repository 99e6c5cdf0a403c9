/**
 * The {@code tcp://host:port} transport, on the runtime's Netty event loops. Found with
 * {@link java.util.ServiceLoader} as a {@link io.mancom.spi.TransportProvider}; the jar works the
 * same on the class path.
 */
module io.mancom.tcp {
    requires transitive io.mancom.api; // the provider's signatures
    requires io.mancom.core;

    exports io.mancom.tcp;

    provides io.mancom.spi.TransportProvider with io.mancom.tcp.TcpTransportProvider;
}
