package io.mancom.core.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
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
 * <h2>Ordering</h2>
 * One queue, drained in order by tasks that run before any task submitted after the write
 * returned: the writes of one thread go out in order, and before a close or a shutdownOutput
 * that thread makes afterwards (both are loop tasks too).
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

    /** @param afterDrain runs on the loop after each drain (wakes a writer waiting for room) */
    BlockingWriter(Channel channel, Runnable afterDrain) {
        this(channel, null, afterDrain);
    }

    /** @param counted the connection whose counters take the bytes once they are sent */
    BlockingWriter(Channel channel, ChannelConnection counted, Runnable afterDrain) {
        this.channel = channel;
        this.counted = counted;
        this.afterDrain = afterDrain;
    }

    /** Whether a write would not wait: the channel can take more than what is queued here. */
    boolean hasRoom() {
        return channel.bytesBeforeUnwritable() > queued.get();
    }

    /**
     * Copies {@code src}'s remaining bytes (at most {@link #CHUNK}) and queues them.
     *
     * @return false if the event loop no longer runs tasks (the runtime is closing): nothing is queued
     */
    boolean write(ByteBuffer src) {
        int n = src.remaining();
        assert n <= CHUNK;
        ByteBuf buf = channel.alloc().directBuffer(n);
        buf.writeBytes(src.duplicate());
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
            if (counted == null) {
                channel.write(last, channel.voidPromise());
            } else {
                long sent = onTheWire;
                channel.write(last).addListener(f -> {
                    if (f.isSuccess()) {
                        counted.sent(sent);
                    } else {
                        // What the void promise of the other writes does with a failure.
                        channel.pipeline().fireExceptionCaught(f.cause());
                    }
                });
                counted.flushing();
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
