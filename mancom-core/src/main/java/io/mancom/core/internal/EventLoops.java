package io.mancom.core.internal;

import io.mancom.core.spi.NettyRuntime;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The runtime's threads: one event-loop group for every link, and a pool for blocking work.
 * Native epoll is used on Linux when Netty's native library loads; NIO otherwise (set
 * {@code -Dmancom.native=false} to force NIO, for example to compare the two).
 */
final class EventLoops implements NettyRuntime {
    private final EventLoopGroup group;
    private final boolean nativeTransport;
    private final ThreadPoolExecutor blocking;
    private final Threads ioThreads = new Threads("mancom-io");
    private final Threads blockingThreads = new Threads("mancom-blocking");

    EventLoops(int threads) {
        nativeTransport = Boolean.parseBoolean(System.getProperty("mancom.native", "true")) && Epoll.isAvailable();
        IoHandlerFactory factory = nativeTransport ? new EpollKeepRegistered(EpollIoHandler.newFactory())
                : NioIoHandler.newFactory();
        group = new MultiThreadIoEventLoopGroup(threads, ioThreads, factory);
        // Blocking work (device open, device readers) gets its own threads so it never occupies
        // an event loop; the pool shrinks back to nothing when idle.
        blocking = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                blockingThreads);
    }

    @Override
    public EventLoopGroup group() {
        return group;
    }

    @Override
    public Class<? extends ServerSocketChannel> serverSocketChannelType() {
        return nativeTransport ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    @Override
    public Class<? extends SocketChannel> socketChannelType() {
        return nativeTransport ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    @Override
    public boolean isNative() {
        return nativeTransport;
    }

    @Override
    public ByteBufAllocator alloc() {
        return ByteBufAllocator.DEFAULT;
    }

    @Override
    public ExecutorService blockingExecutor() {
        return blocking;
    }

    /** Stops every thread; returns when they have ended (or after a bounded wait). */
    void shutdown() {
        blocking.shutdownNow();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        try {
            blocking.awaitTermination(5, TimeUnit.SECONDS);
            // Both report termination from the ending thread itself, just before it returns: only
            // a join says the thread is gone.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            ioThreads.join(deadline);
            blockingThreads.join(deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Netty's daemon thread factory that also keeps the threads it made, to join them. */
    private static final class Threads extends DefaultThreadFactory {
        private final Set<Thread> made = ConcurrentHashMap.newKeySet();

        Threads(String prefix) {
            super(prefix, true);
        }

        @Override
        protected Thread newThread(Runnable r, String name) {
            made.removeIf(t -> !t.isAlive()); // the blocking pool comes and goes: keep only the living
            Thread t = super.newThread(r, name);
            made.add(t);
            return t;
        }

        void join(long deadlineNanos) throws InterruptedException {
            for (Thread t : made) {
                long left = deadlineNanos - System.nanoTime();
                if (left > 0 && t != Thread.currentThread()) { // close() from a callback on a blocking thread
                    t.join(TimeUnit.NANOSECONDS.toMillis(left) + 1);
                }
            }
        }
    }
}
