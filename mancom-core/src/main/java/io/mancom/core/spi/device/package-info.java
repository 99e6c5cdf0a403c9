/**
 * Byte-pipe devices (serial lines, USB bulk endpoints) as Netty channels, shared by every device
 * transport.
 *
 * <p>A device transport writes one thing, a {@link io.mancom.core.spi.device.DeviceOpener} that opens
 * its device as a {@link io.mancom.core.spi.device.DeviceLink} (blocking read with a short timeout,
 * blocking write, close; or a non-blocking descriptor), handed over by
 * {@link io.mancom.core.spi.device.DeviceOpeners} (one opener per listener where it waits for a device
 * to be plugged in). Everything else is here and the same for every device:
 * <ul>
 *   <li>{@link io.mancom.core.spi.device.DeviceChannel}: the link as a Netty channel on the runtime's
 *       event loops, over one of two engines ({@code DeviceIo}): a reader thread with bounded
 *       read-ahead (backpressure to the device) and writes off the event loop, or the epoll loop
 *       serving the link's descriptor itself;</li>
 *   <li>{@link io.mancom.core.spi.device.DeviceListener}: serves a service by opening the device and
 *       reopening it with backoff after it is lost, reporting why while it cannot;</li>
 *   <li>{@link io.mancom.core.spi.device.DeviceConnector}: opens the device once for a client;</li>
 *   <li>{@link io.mancom.core.spi.device.DeviceTransport}: the SPI {@code Transport} made of the two.</li>
 * </ul>
 *
 * <h2>Contract</h2>
 * This package is part of mancom-core's exported contract (with {@link io.mancom.core.spi}). A
 * device transport's provider builds a {@link io.mancom.core.spi.device.DeviceTransport} from the
 * runtime's {@link io.mancom.core.spi.NettyRuntime}, its {@code DeviceOpeners} and the
 * {@link io.mancom.core.spi.device.DeviceChannel.Options} that size the channel's buffers; it
 * implements {@code DeviceOpener} and {@code DeviceLink} and nothing else. The engines
 * ({@code DeviceIo} and its threaded and epoll implementations) are package-private; the
 * listener, connector and {@code DeviceAddress} are public because channels and tests see them,
 * but a transport has no need to construct them.
 */
package io.mancom.core.spi.device;
