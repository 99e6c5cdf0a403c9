package io.mancom.core.internal.monitor;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One {@code GET /events} client: a bounded queue of events, drained onto its HTTP channel while
 * the channel is writable. A client that lets {@link #CAPACITY} events pile up is dropped (its
 * connection closed): the runtime never waits for a monitoring client and never buffers for it
 * without bound.
 *
 * <p>Thread-safe: {@link #offer} runs on any event loop; draining runs on the client channel's loop.
 */
final class SseSubscriber {
    private static final Logger log = LoggerFactory.getLogger(SseSubscriber.class);
    /** Events one client may have waiting before it is dropped. */
    static final int CAPACITY = 1024;

    private final Channel channel;
    private final ArrayBlockingQueue<String> queue = new ArrayBlockingQueue<>(CAPACITY);
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile boolean dropped;

    SseSubscriber(Channel channel) {
        this.channel = channel;
    }

    /** Queues one event; false if this subscriber is gone or was dropped now. */
    boolean offer(String json) {
        if (dropped || !channel.isActive()) {
            return false;
        }
        if (!queue.offer(json)) {
            dropped = true;
            log.info("dropping the /events client {}: it did not keep up ({} events waiting)", channel.remoteAddress(),
                    CAPACITY);
            channel.close();
            return false;
        }
        if (scheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(this::drain);
        }
        return true;
    }

    /** Writes what is queued while the channel takes it. On the channel's loop. */
    void drain() {
        scheduled.set(false);
        boolean wrote = false;
        String json;
        while (channel.isWritable() && (json = queue.poll()) != null) {
            channel.write(chunk("data: " + json + "\n\n"));
            wrote = true;
        }
        if (wrote) {
            channel.flush();
        }
    }

    /** An SSE comment: tells the client the stream is live before the first event. */
    void hello() {
        channel.writeAndFlush(chunk(": mancom events\n\n"));
    }

    private DefaultHttpContent chunk(String text) {
        ByteBuf buf = ByteBufUtil.writeUtf8(channel.alloc(), text);
        return new DefaultHttpContent(buf);
    }
}
