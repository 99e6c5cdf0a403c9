package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;

import java.util.ArrayDeque;

/**
 * What a stream received and its reader has not taken yet: the Data payloads in order, their byte
 * count, and Netty's read model over them (auto-read, or one batch of up to
 * {@code maxMessagesPerRead} buffers per {@code read()}). Part of {@link MuxStreamChannel}; one
 * per stream.
 *
 * <h2>Buffer ownership</h2>
 * {@link #add} takes a payload; {@link #deliver} hands it to the pipeline (whose handler then owns
 * it); {@link #releaseAll} releases what is left.
 *
 * <h2>Threading</h2>
 * Event loop only.
 */
final class MuxStreamInbound {

    // Made on the first payload, dropped again once the preamble is taken and nothing else waits:
    // an idle stream keeps no queue (an ArrayDeque and its array are over 100 bytes).
    private ArrayDeque<ByteBuf> queue;
    private int bytes;
    private boolean readRequested;
    private boolean readyQueued;
    private boolean delivering;

    /** Queues a received payload (ownership passes here). */
    void add(ByteBuf payload) {
        if (queue == null) {
            queue = new ArrayDeque<>();
        }
        queue.add(payload);
        bytes += payload.readableBytes();
    }

    /** The bytes queued. */
    int bytes() {
        return bytes;
    }

    boolean isEmpty() {
        return queue == null || queue.isEmpty();
    }

    /**
     * Takes the service preamble from the front ({@link ServicePreamble#take}).
     *
     * @param released told how many bytes left the queue (taken, or dropped with a bad preamble)
     * @return the service and the bytes taken, or {@code null} while the preamble is incomplete
     * @throws IllegalArgumentException for a bad preamble
     */
    ServicePreamble.Taken takePreamble(MuxStreamTable released) {
        if (queue == null) {
            return null;
        }
        ServicePreamble.Taken taken;
        try {
            taken = ServicePreamble.take(queue, bytes);
        } catch (IllegalArgumentException e) {
            int left = 0;
            for (ByteBuf b : queue) {
                left += b.readableBytes();
            }
            released.inboundReleased(bytes - left);
            bytes = left;
            throw e;
        }
        if (taken != null) {
            bytes -= taken.bytes();
            released.inboundReleased(taken.bytes());
            if (queue.isEmpty()) {
                queue = null; // a stream accepted and idle keeps none
            }
        }
        return taken;
    }

    /** Releases everything queued; returns the bytes dropped. */
    int releaseAll() {
        int n = bytes;
        ByteBuf b;
        while (queue != null && (b = queue.poll()) != null) {
            b.release();
        }
        bytes = 0;
        return n;
    }

    /** The reader asked for a batch ({@code read()} with auto-read off). */
    void readRequested() {
        readRequested = true;
    }

    /** Auto-read was turned off: no further batch unless {@code read()} asks (as with a socket). */
    void autoReadCleared(boolean autoRead) {
        readRequested = readRequested && autoRead;
    }

    /** Puts the stream in the session's ready queue: false if it is there already. */
    boolean queueReady() {
        if (readyQueued) {
            return false;
        }
        readyQueued = true;
        return true;
    }

    /** The stream left the session's ready queue. */
    void leftReadyQueue() {
        readyQueued = false;
    }

    /**
     * Fires what the reader asks for through the stream's pipeline, and {@code channelReadComplete}
     * after each batch. Not reentrant: a {@code read()} (or auto-read turned back on) from inside a
     * delivery delivers nothing by itself; this delivery sees it and goes on, also when it comes
     * from {@code channelReadComplete}, after the batch loop has stopped. That is the common case of
     * a reader that pauses while it cannot write: its batch's writes fill the stream's queue (auto-read
     * off), the flush at {@code channelReadComplete} drains it (auto-read on again). A request left
     * for a later delivery would wait for the peer's next Data, which never comes when the peer is
     * waiting for the credit of the very bytes still queued here.
     *
     * @return the bytes delivered, or -1 if a delivery is running already
     */
    int deliver(MuxStreamChannel ch) {
        if (delivering) {
            return -1;
        }
        delivering = true;
        int consumed = 0;
        try {
            ChannelPipeline p = ch.pipeline();
            MuxStreamChannelConfig config = (MuxStreamChannelConfig) ch.config();
            int max = maxMessagesPerRead(config);
            while (wantsDelivery(ch, config)) {
                // One batch: up to maxMessagesPerRead buffers per read() with auto-read off.
                int batch = 0;
                do {
                    ByteBuf buf = queue.poll();
                    int n = buf.readableBytes();
                    bytes -= n;
                    consumed += n;
                    if (!config.isAutoRead() && ++batch >= max) {
                        readRequested = false;
                    }
                    p.fireChannelRead(buf);
                } while (wantsDelivery(ch, config));
                if (!config.isAutoRead()) {
                    readRequested = false;
                }
                p.fireChannelReadComplete();
            }
        } finally {
            delivering = false;
        }
        return consumed;
    }

    /** Whether there is data and the reader asks for it (auto-read, or a pending {@code read()}). */
    private boolean wantsDelivery(MuxStreamChannel ch, MuxStreamChannelConfig config) {
        return ch.isOpen() && !isEmpty() && (config.isAutoRead() || readRequested);
    }

    private static int maxMessagesPerRead(MuxStreamChannelConfig config) {
        RecvByteBufAllocator a = config.getRecvByteBufAllocator();
        return a instanceof MaxMessagesRecvByteBufAllocator m ? Math.max(1, m.maxMessagesPerRead()) : 16;
    }
}
