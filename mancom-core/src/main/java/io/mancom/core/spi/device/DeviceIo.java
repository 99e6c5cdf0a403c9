package io.mancom.core.spi.device;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;

/**
 * The engine under a {@link DeviceChannel}: how bytes move between the channel's
 * {@link DeviceLink} and its pipeline. The channel is the Netty glue (lifecycle, addresses,
 * config, the close cause); it picks one engine when it is made and hands it every I/O event:
 * <ul>
 *   <li>{@link ThreadedDeviceIo}: a reader thread fills a read-ahead ring, writes go to a writer
 *       task in batches; for links served through {@link DeviceLink#read} and {@link DeviceLink#write};</li>
 *   <li>{@link EpollDeviceIo}: the channel's epoll event loop reads and writes the link's
 *       {@linkplain DeviceLink#descriptor() descriptor} itself, as Netty serves a socket.</li>
 * </ul>
 *
 * <h2>Threading</h2>
 * Every method is called on the channel's event loop, once the channel is registered there.
 *
 * <h2>Buffer ownership and errors</h2>
 * {@link #filterOutbound} takes over the buffer it is given; {@link #write} leaves messages in the
 * outbound buffer until the device has taken them. A device failure goes to
 * {@link DeviceChannel#failed}, which fires it once and closes the channel; the engine never
 * closes the link itself except through {@link LinkHolds#closeLink()}.
 */
interface DeviceIo {

    /**
     * Starts serving the link: from {@code doRegister}, once. Completes {@code promise}, or
     * fails it when the engine cannot run on the loop the channel was registered on.
     */
    void register(ChannelPromise promise);

    /** The pipeline asked for a read ({@code doBeginRead}). */
    void beginRead();

    /** Auto-read went off: a read asked for earlier and not yet answered is forgotten. */
    void clearReadRequest();

    /**
     * A message about to be queued for writing, as this engine writes it: {@code msg} itself, or
     * a copy (then {@code msg} is released).
     */
    ByteBuf filterOutbound(ByteBuf msg);

    /** Writes (or hands over for writing) the outbound buffer's flushed messages ({@code doWrite}). */
    void write(ChannelOutboundBuffer in) throws Exception;

    /**
     * The channel is closing ({@code doClose}): stop watching and reading the link, wake what
     * waits on it. Called before the link is closed (its descriptor must not be watched then).
     */
    void stop();
}
