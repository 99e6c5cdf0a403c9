package io.mancom.core.spi;

import io.mancom.core.internal.EpollKeepRegistered;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;

import java.util.concurrent.Executor;

/**
 * The runtime's Netty machinery, for transports built on Netty. A transport gets it with
 * {@code context.unwrap(NettyRuntime.class)}.
 *
 * <p>Every link of a runtime lives on {@link #group()}: TCP sockets are registered there, and
 * device channels (serial, USB) are too, so the runtime's handlers run the same way on each.
 */
public interface NettyRuntime {

    /** The one event-loop group of the runtime (epoll on Linux when available, NIO otherwise). */
    EventLoopGroup group();

    /** The server socket channel class that matches {@link #group()}. */
    Class<? extends ServerSocketChannel> serverSocketChannelType();

    /** The socket channel class that matches {@link #group()}. */
    Class<? extends SocketChannel> socketChannelType();

    /** Whether {@link #group()} uses the native epoll transport. */
    boolean isNative();

    /** The allocator for every buffer of the runtime. */
    ByteBufAllocator alloc();

    /**
     * An executor for work that blocks (opening a device, a device's reader loop). Threads are
     * daemon threads named {@code mancom-blocking-N}; the pool grows as needed and is stopped when
     * the runtime closes.
     */
    Executor blockingExecutor();

    /**
     * The epoll I/O handler factory for an event-loop group a module builds beside the runtime's
     * (the daemon's, the HTTP proxy's): Netty's, with the fix every ManCom epoll loop needs (an
     * idle half-closed socket stays in the epoll set; see {@code EpollKeepRegistered}). Only where
     * {@code Epoll.isAvailable()}.
     */
    static IoHandlerFactory epollIoHandlerFactory() {
        return EpollKeepRegistered.newFactory();
    }
}
