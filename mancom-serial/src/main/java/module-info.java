/**
 * The {@code serial://} transport (serial lines through jSerialComm) on mancom-core's device kit, and
 * {@link io.mancom.serial.SerialPorts} for listing the ports. Found with
 * {@link java.util.ServiceLoader} as a {@link io.mancom.spi.TransportProvider}; the jar works the
 * same on the class path.
 */
module io.mancom.serial {
    requires transitive io.mancom.api; // the provider's signatures
    requires io.mancom.core;
    requires com.fazecast.jSerialComm;
    requires org.slf4j;

    exports io.mancom.serial;

    provides io.mancom.spi.TransportProvider with io.mancom.serial.SerialTransportProvider;
}
