package io.mancom.core.spi.device;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** The last handler of a test pipeline: keeps what arrives (or only counts it) and every event. */
class Recorder extends ChannelInboundHandlerAdapter {
    private final boolean keep;
    private final ByteArrayOutputStream data = new ByteArrayOutputStream();
    final AtomicLong bytes = new AtomicLong();
    final AtomicInteger reads = new AtomicInteger();
    final AtomicInteger readCompletes = new AtomicInteger();
    final List<Throwable> exceptions = new CopyOnWriteArrayList<>();
    final CompletableFuture<Void> inactive = new CompletableFuture<>();
    final AtomicInteger inactiveEvents = new AtomicInteger();
    private CompletableFuture<Void> bytesReached = new CompletableFuture<>();
    private long target = Long.MAX_VALUE;

    Recorder(boolean keep) {
        this.keep = keep;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf b = (ByteBuf) msg;
        boolean reached;
        try {
            reads.incrementAndGet();
            onBytes(ctx, b);
            synchronized (this) {
                if (keep) {
                    b.getBytes(b.readerIndex(), data, b.readableBytes());
                }
                reached = bytes.addAndGet(b.readableBytes()) >= target;
            }
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        } finally {
            b.release();
        }
        // Only after the release: a waiter may check at once that no buffer is still held.
        if (reached) {
            bytesReached.complete(null);
        }
    }

    /** Hook for subclasses, called before the buffer is released. */
    void onBytes(ChannelHandlerContext ctx, ByteBuf b) {
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        readCompletes.incrementAndGet();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        exceptions.add(cause);
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactiveEvents.incrementAndGet();
        inactive.complete(null);
        ctx.fireChannelInactive();
    }

    /** Completes once at least {@code n} bytes arrived in total. */
    synchronized CompletableFuture<Void> awaitBytes(long n) {
        target = n;
        bytesReached = new CompletableFuture<>();
        if (bytes.get() >= n) {
            bytesReached.complete(null);
        }
        return bytesReached;
    }

    synchronized byte[] data() {
        return data.toByteArray();
    }
}
