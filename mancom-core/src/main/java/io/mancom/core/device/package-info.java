/**
 * Byte-pipe devices (serial lines, USB bulk endpoints) as Netty channels, shared by every device
 * transport.
 *
 * <p>A device transport writes one thing, a {@link io.mancom.core.device.DeviceOpener} that opens
 * its device as a {@link io.mancom.core.device.DeviceLink} (blocking read with a short timeout,
 * blocking write, close; or a non-blocking descriptor), handed over by
 * {@link io.mancom.core.device.DeviceOpeners} (one opener per listener where it waits for a device
 * to be plugged in). Everything else is here and the same for every device:
 * <ul>
 *   <li>{@link io.mancom.core.device.DeviceChannel}: the link as a Netty channel on the runtime's
 *       event loops, over one of two engines ({@code DeviceIo}): a reader thread with bounded
 *       read-ahead (backpressure to the device) and writes off the event loop, or the epoll loop
 *       serving the link's descriptor itself;</li>
 *   <li>{@link io.mancom.core.device.DeviceListener}: serves a service by opening the device and
 *       reopening it with backoff after it is lost, reporting why while it cannot;</li>
 *   <li>{@link io.mancom.core.device.DeviceConnector}: opens the device once for a client;</li>
 *   <li>{@link io.mancom.core.device.DeviceTransport}: the SPI {@code Transport} made of the two.</li>
 * </ul>
 */
package io.mancom.core.device;
