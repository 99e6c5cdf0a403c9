package io.mancom.core.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.SingleThreadEventExecutor;
import io.netty.util.internal.PlatformDependent;

import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How the blocking API's writes reach the event loop: each write is copied into a direct buffer
 * and queued here, and one loop task writes everything queued and flushes once. While that task
 * is pending, further writes join it instead of adding a task, a loop wake-up and a flush (a send
 * call) each, which is what Netty's own write from outside the loop costs.
 *
 * <h2>Writing the socket from the caller's thread</h2>
 * On a plain epoll TCP socket ({@link DirectSocketWriter#forChannel}), a write made while nothing
 * of this writer waits for the loop or is still in Netty's queue ({@code unsent} is 0) goes
 * straight to the socket from the caller's thread; only what the socket buffer does not take is
 * queued as below. That saves the blocking API's hand-off to the loop per write (a wake-up, a
 * task, a flush), which cost the blocking echo about a tenth of plain Netty's throughput. The
 * bytes sent that way are counted for monitoring when the loop next runs (a lazy task).
 *
 * <h2>Ordering</h2>
 * One queue, drained in order by tasks that run before any task submitted after the write
 * returned: the writes of one thread go out in order, and before a close or a shutdownOutput
 * that thread makes afterwards (both are loop tasks too). A direct write is made only when
 * everything queued before it has been written (under the direct writer's lock, which every
 * write then holds), and is in the socket when it returns.
 *
 * <h2>Backpressure</h2>
 * Bytes queued here are not in Netty's outbound buffer yet, so they count against its room:
 * {@link #hasRoom()} is false once they reach what the channel can take before its high-water
 * mark. A write of up to {@link #CHUNK} bytes is made whenever there is room, so the queue
 * (here and Netty's) holds at most the high-water mark plus one chunk.
 *
 * <h2>Buffers and errors</h2>
 * The queued buffers are owned here until the loop hands them to the channel, which releases them
 * once written or failed. A write that fails on the loop fails the channel's void promise, which
 * fires {@code exceptionCaught}: {@link ConnectionHandler} closes the connection with that cause,
 * and the next read or write reports it. Thread-safe.
 */
final class BlockingWriter {
    /** The most one write hands over at once, so one call cannot queue without bound. */
    static final int CHUNK = 64 * 1024;

    private final Channel channel;
    /** Counts what is sent (monitoring); null in tests that have no connection. */
    private final ChannelConnection counted;
    private final Runnable afterDrain;
    private final Queue<ByteBuf> queue = PlatformDependent.newMpscQueue();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** Bytes queued here, not yet handed to the channel. */
    private final AtomicLong queued = new AtomicLong();
    private final Runnable drain = this::drain;
    /** Writes the socket from the caller's thread when it can; null: every write goes through the loop. */
    private final DirectSocketWriter direct;
    /**
     * With {@link #direct}: bytes queued or handed to the channel and not yet written (or failed).
     * A direct write waits for 0, so it never overtakes them.
     */
    private final AtomicLong unsent = new AtomicLong();
    /** Bytes written directly and not yet added to the connection's counters (on the loop). */
    private final AtomicLong uncounted = new AtomicLong();
    private final Runnable count = this::count;

    /** @param afterDrain runs on the loop after each drain (wakes a writer waiting for room) */
    BlockingWriter(Channel channel, Runnable afterDrain) {
        this(channel, null, afterDrain);
    }

    /** @param counted the connection whose counters take the bytes once they are sent */
    BlockingWriter(Channel channel, ChannelConnection counted, Runnable afterDrain) {
        this.channel = channel;
        this.counted = counted;
        this.afterDrain = afterDrain;
        this.direct = DirectSocketWriter.forChannel(channel);
    }

    /** Whether writes may go to the socket from the caller's thread (tests). */
    boolean writesDirectly() {
        return direct != null && !direct.isStopped();
    }

    /** Whether a write would not wait: the channel can take more than what is queued here. */
    boolean hasRoom() {
        return channel.bytesBeforeUnwritable() > queued.get();
    }

    /**
     * Copies {@code src}'s remaining bytes (at most {@link #CHUNK}) and writes them to the socket
     * now if it can (see the class comment), or queues them.
     *
     * @return false if the event loop no longer runs tasks (the runtime is closing): nothing is queued
     */
    boolean write(ByteBuffer src) {
        int n = src.remaining();
        assert n <= CHUNK;
        ByteBuf buf = channel.alloc().directBuffer(n);
        buf.writeBytes(src.duplicate());
        return direct == null ? enqueue(buf) : writeDirect(buf);
    }

    private boolean writeDirect(ByteBuf buf) {
        direct.lock();
        try {
            if (unsent.get() == 0) {
                int w = direct.write(buf);
                if (w > 0) {
                    buf.skipBytes(w);
                    counted(w);
                }
                if (!buf.isReadable()) {
                    buf.release();
                    return true;
                }
            }
            // Counted before the drain can see it: the next direct write waits until it is written.
            unsent.addAndGet(buf.readableBytes());
            boolean queuedIt = enqueue(buf);
            if (!queuedIt) {
                unsent.set(0); // the loop is gone: nothing will be written
            }
            return queuedIt;
        } finally {
            direct.unlock();
        }
    }

    /** {@code n} bytes went out directly: the loop adds them to the counters when it next runs. */
    private void counted(int n) {
        if (counted == null) {
            return;
        }
        counted.flushing();
        if (uncounted.getAndAdd(n) == 0) {
            EventLoop loop = channel.eventLoop();
            try {
                if (loop instanceof SingleThreadEventExecutor lazy) {
                    lazy.lazyExecute(count); // no wake-up for a counter
                } else {
                    loop.execute(count);
                }
            } catch (RejectedExecutionException e) {
                // The runtime is closing: its counters are no longer read.
            }
        }
    }

    private void count() {
        long n = uncounted.getAndSet(0);
        if (n > 0) {
            counted.sent(n);
        }
    }

    private boolean enqueue(ByteBuf buf) {
        int n = buf.readableBytes();
        queued.addAndGet(n);
        queue.offer(buf);
        if (scheduled.compareAndSet(false, true)) {
            try {
                channel.eventLoop().execute(drain);
            } catch (RejectedExecutionException e) {
                discard();
                return false;
            }
        }
        return true;
    }

    private void drain() {
        // Cleared first: a write that finds it clear schedules another drain, which then finds
        // its buffer (or an empty queue, if this drain took it).
        scheduled.set(false);
        long n = 0;
        long onTheWire = 0;
        ByteBuf last = null;
        for (ByteBuf b; (b = queue.poll()) != null; ) {
            if (last != null) {
                channel.write(last, channel.voidPromise());
            }
            int len = b.readableBytes();
            n += len;
            onTheWire += len == 0 || counted == null ? len : len + counted.framingOverhead;
            last = b;
        }
        queued.addAndGet(-n);
        if (last != null) {
            // One promise per drain, on its last write: writes complete in order, so when it has
            // gone out the whole batch has, and is counted then (monitoring counts sent bytes).
            if (counted == null && direct == null) {
                channel.write(last, channel.voidPromise());
            } else {
                long sent = onTheWire;
                long batch = n;
                channel.write(last).addListener(f -> {
                    if (direct != null) {
                        unsent.addAndGet(-batch); // written or failed: a direct write may follow
                    }
                    if (counted == null) {
                        if (!f.isSuccess()) {
                            channel.pipeline().fireExceptionCaught(f.cause());
                        }
                    } else if (f.isSuccess()) {
                        counted.sent(sent);
                    } else {
                        // What the void promise of the other writes does with a failure.
                        channel.pipeline().fireExceptionCaught(f.cause());
                    }
                });
                if (counted != null) {
                    counted.flushing();
                }
            }
            channel.flush();
        }
        afterDrain.run();
    }

    private void discard() {
        for (ByteBuf b; (b = queue.poll()) != null; ) {
            queued.addAndGet(-b.readableBytes());
            b.release();
        }
    }
}
