package io.mancom.core.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.IoHandle;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Lets an application thread write a plain TCP socket's descriptor itself, so that a blocking
 * write whose bytes fit the socket buffer needs no event-loop task: no hand-off (a wake-up of the
 * loop, a task, a flush), and the kernel's copy runs on the writer's CPU, where its bytes are.
 * {@link BlockingWriter} uses it while nothing of the connection waits for the loop; whatever
 * does not fit goes through the loop as before.
 *
 * <h2>Why a descriptor number is safe to write here</h2>
 * The loop closes a channel's descriptor, and a number closed may be reused at once by another
 * socket: a write racing with the close could land in someone else's connection. Every epoll
 * channel of ManCom is registered through {@link EpollKeepRegistered}, whose registrations call
 * {@link #deregistering} from {@code doClose}, on the loop, before Netty calls {@code close(2)},
 * on every close path (the pipeline's, Netty's own after an error, the loop's shutdown). That
 * takes this writer's lock, so it waits for a write in progress (one non-blocking system call)
 * and stops all later ones; a writer holds the lock from its check to the end of its call.
 *
 * <h2>Which channels</h2>
 * Only an open, registered {@link EpollSocketChannel} whose pipeline has no outbound handler but
 * {@link ConnectionHandler} (no TLS, no framing encoder: the bytes go out as written), and only
 * while {@code -Dio.mancom.directWrite} is not {@code false}. {@link #forChannel} says null
 * otherwise, and every write then goes through the loop.
 *
 * <h2>Threading, buffers, errors</h2>
 * {@link #write} is called with the lock held ({@link #lock}), from any thread; it never takes or
 * releases the caller's buffer. A failed write (the peer reset the connection) stops direct
 * writes and fires the failure into the pipeline on the loop, as a failed flush does:
 * {@link ConnectionHandler} closes the connection with it.
 */
final class DirectSocketWriter {
    /** Set to {@code false} to send every blocking write through the event loop. */
    static final String PROPERTY = "io.mancom.directWrite";

    // Descriptor number -> its FileDescriptor while registered through EpollKeepRegistered, or the
    // DirectSocketWriter made for it. Written on the loops only; a number is unique while open.
    private static final Map<Integer, Object> REGISTERED = new ConcurrentHashMap<>();

    private final Channel channel;
    private final FileDescriptor fd;
    private final ReentrantLock lock = new ReentrantLock();
    /** No more direct writes: the channel is closing, or a write failed. Guarded by the lock. */
    private boolean stopped;

    private DirectSocketWriter(Channel channel, FileDescriptor fd) {
        this.channel = channel;
        this.fd = fd;
    }

    /** A descriptor was registered with an epoll loop through {@link EpollKeepRegistered}. On that loop. */
    static void registered(IoHandle handle) {
        if (handle instanceof EpollIoHandle h) {
            FileDescriptor fd = h.fd();
            if (REGISTERED.put(fd.intValue(), fd) instanceof DirectSocketWriter stale) {
                stale.stop(); // its channel was closed off its loop (closeForcibly), unannounced
            }
        }
    }

    /**
     * The descriptor leaves its loop, which is about to close it: direct writes stop, after the one in
     * progress if any. On that loop, before {@code close(2)}.
     */
    static void deregistering(IoHandle handle) {
        if (!(handle instanceof EpollIoHandle h)) {
            return;
        }
        FileDescriptor fd = h.fd();
        Object[] was = new Object[1];
        // Only this descriptor's entry: one closed off the loop is deregistered after close(2),
        // when its number may already belong to a new registration.
        REGISTERED.computeIfPresent(fd.intValue(), (n, v) -> {
            if (v == fd || v instanceof DirectSocketWriter w && w.fd == fd) {
                was[0] = v;
                return null;
            }
            return v;
        });
        if (was[0] instanceof DirectSocketWriter w) {
            w.stop();
        }
    }

    /**
     * A direct writer for {@code channel}, or null if its writes must go through the loop (see
     * the class comment). On the channel's loop; at most one per channel.
     */
    static DirectSocketWriter forChannel(Channel channel) {
        if (!(channel instanceof EpollSocketChannel socket) || "false".equals(System.getProperty(PROPERTY))
                || !channel.isOpen() || !channel.isRegistered() || !channel.eventLoop().inEventLoop()
                || !bytesGoOutAsWritten(channel)) {
            return null;
        }
        FileDescriptor fd = socket.fd();
        Object made = REGISTERED.computeIfPresent(fd.intValue(),
                (n, v) -> v == fd ? new DirectSocketWriter(channel, fd) : v);
        return made instanceof DirectSocketWriter w && w.fd == fd && w.channel == channel ? w : null;
    }

    /** Whether no outbound handler but the connection's own sits between a write and the socket. */
    private static boolean bytesGoOutAsWritten(Channel channel) {
        for (Map.Entry<String, ChannelHandler> e : channel.pipeline()) {
            ChannelHandler h = e.getValue();
            if (h instanceof ChannelOutboundHandler && !(h instanceof ConnectionHandler)) {
                return false;
            }
        }
        return true;
    }

    void lock() {
        lock.lock();
    }

    void unlock() {
        lock.unlock();
    }

    /**
     * Writes what it can of {@code buf}'s readable bytes to the socket now, without waiting, and
     * leaves {@code buf}'s indices alone.
     *
     * @return bytes written: 0 if the socket buffer is full, direct writes have stopped, or the
     *         write failed (then the failure is on its way to the pipeline)
     */
    int write(ByteBuf buf) {
        assert lock.isHeldByCurrentThread();
        if (stopped || !fd.isOpen()) {
            return 0;
        }
        int from = buf.readerIndex();
        int n = buf.readableBytes();
        try {
            if (buf.hasMemoryAddress()) {
                return fd.writeAddress(buf.memoryAddress(), from, from + n);
            }
            ByteBuffer nio = buf.internalNioBuffer(from, n);
            return fd.write(nio, nio.position(), nio.limit());
        } catch (IOException e) {
            stopped = true;
            channel.pipeline().fireExceptionCaught(e); // runs on the loop, like a failed flush's
            return 0;
        }
    }

    /** Whether direct writes have stopped. Any thread. */
    boolean isStopped() {
        lock.lock();
        try {
            return stopped;
        } finally {
            lock.unlock();
        }
    }

    private void stop() {
        lock.lock();
        try {
            stopped = true;
        } finally {
            lock.unlock();
        }
    }
}
