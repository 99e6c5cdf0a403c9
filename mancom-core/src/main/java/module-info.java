/**
 * mancom-core, the ManCom runtime: event loops, the DeMuxer, the mux, configuration and
 * monitoring, found through {@link io.mancom.spi.RuntimeProvider}.
 *
 * <h2>What is exported</h2>
 * Only the contract a transport built on Netty uses, beyond mancom-api's {@code io.mancom.spi}:
 * {@link io.mancom.core.spi} (the channel sink, the runtime's Netty machinery, status reporting,
 * the configuration a transport reads and the loader entry for tools) and
 * {@link io.mancom.core.spi.device} (the kit device transports build on). Everything under
 * {@code io.mancom.core.internal} is the runtime's own and may change in any release. The
 * modules the exported signatures name (mancom-api; Netty's common, buffer, transport and unix
 * modules; Typesafe Config) are required transitively, so a transport needs only
 * {@code requires io.mancom.core}. Typesafe Config and Prometheus's client have no descriptor;
 * their manifests name them, so the names are stable (hence the suppressed warnings).
 *
 * <p>On the class path (the CLI's jar, applications that do not use modules) this descriptor is
 * ignored and nothing changes; the {@code .internal} names then say what is not for use.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.mancom.core {
    requires transitive io.mancom.api;
    requires transitive io.netty.common;
    requires transitive io.netty.buffer;
    requires transitive io.netty.transport;
    requires transitive io.netty.transport.unix.common; // DeviceLink.descriptor()
    requires transitive typesafe.config;

    requires io.netty.codec;
    requires io.netty.codec.http;
    requires io.netty.handler;
    requires io.netty.transport.classes.epoll;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires io.prometheus.metrics.model;
    requires io.prometheus.writer.text;

    exports io.mancom.core.spi;
    exports io.mancom.core.spi.device;

    uses io.mancom.spi.TransportProvider;

    provides io.mancom.spi.RuntimeProvider with io.mancom.core.internal.CoreRuntimeProvider;
}
