/**
 * mancom-core's contract for transports built on Netty: what the runtime offers a transport beyond
 * the Netty-free {@link io.mancom.spi} of mancom-api. This package and
 * {@link io.mancom.core.spi.device} are all that mancom-core exports; everything else in the module
 * is under {@code io.mancom.core.internal} and may change in any release.
 *
 * <h2>Reaching it</h2>
 * A transport's {@link io.mancom.spi.TransportProvider#create} gets a
 * {@link io.mancom.spi.TransportContext}; mancom-core's runtime offers two objects there through
 * {@link io.mancom.spi.TransportContext#unwrap(Class) unwrap}, in the style of JDBC's
 * {@code Wrapper.unwrap}:
 * <ul>
 *   <li>{@link io.mancom.core.spi.NettyRuntime}: the one event-loop group, the matching socket
 *       channel classes, the allocator and an executor for blocking work;</li>
 *   <li>{@link io.mancom.core.spi.RuntimeSettings}: the loaded configuration, for transport-wide
 *       blocks such as {@code mancom.usb}.</li>
 * </ul>
 * The runtime object that {@code ManCom.start()} returns is itself that {@code TransportContext},
 * so a tool holding a {@link io.mancom.ManCom} may ask the same (a benchmark asks whether the loops
 * are epoll); any other {@code ManCom} is not one.
 *
 * <h2>Handing links over</h2>
 * Every {@link io.mancom.spi.LinkSink} the runtime passes to {@code listen} and {@code connect} is a
 * {@link io.mancom.core.spi.ChannelSink}: the transport registers each channel it opens on
 * {@link io.mancom.core.spi.NettyRuntime#group()} and hands it over with
 * {@link io.mancom.core.spi.ChannelSink#channelOpened}; the runtime then owns the channel. A
 * {@link io.mancom.spi.Listener} that keeps trying (a device not plugged in yet) implements
 * {@link io.mancom.core.spi.StatusReporting} so that {@code awaitReady} can say why.
 *
 * <h2>Configuration</h2>
 * A transport reads its options from the service's block ({@link io.mancom.core.spi.ChannelSink#settings()},
 * a {@link io.mancom.core.spi.ServiceSettings}) through {@link io.mancom.core.spi.Settings}, whose
 * errors name the file, line and key of a bad value. {@link io.mancom.core.spi.ConfigTools} is the
 * entry for tools ({@code mancom config check}, {@code mancom serve}) into the runtime's loader.
 *
 * <h2>Byte-pipe devices</h2>
 * {@link io.mancom.core.spi.device} is the kit for device transports (serial, USB): the transport
 * writes an opener, the kit makes the link a Netty channel and the listener that reopens it.
 */
package io.mancom.core.spi;
