package io.mancom.core.internal.mux;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelOutputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;

import java.io.ByteArrayOutputStream;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/** Small stream handlers the session tests put on their streams. */
final class StreamHandlers {

    private StreamHandlers() {
    }

    /**
     * Sends every byte back, with backpressure: reading stops while the stream is not writable.
     * When the peer finishes writing, finishes writing too (needs half-closure allowed).
     */
    /**
     * A handler for streams a test opens only to look at from outside: it takes the exception a
     * stream fires when its session ends (which would otherwise reach the pipeline's tail and be
     * logged as unhandled) and passes everything else on.
     */
    static ChannelInboundHandlerAdapter quiet() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                // Expected in these tests: the stream closes with this cause right after.
            }
        };
    }

    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                ((DuplexChannel) ctx.channel()).shutdownOutput();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Collects everything a stream receives; completes {@link #eof} on end of input (or close),
     * records the exception the stream fails with.
     */
    static final class Collector extends ChannelInboundHandlerAdapter {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final AtomicLong count = new AtomicLong();
        final CompletableFuture<Long> eof = new CompletableFuture<>();
        final CompletableFuture<Throwable> failure = new CompletableFuture<>();
        final CompletableFuture<Void> outputShutdown = new CompletableFuture<>();
        final CompletableFuture<Long> reached;
        private final long target;
        private final boolean keep;

        Collector() {
            this(Long.MAX_VALUE, true);
        }

        Collector(long target, boolean keep) {
            this.target = target;
            this.keep = keep;
            this.reached = new CompletableFuture<>();
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.channel().closeFuture().addListener(f -> eof.complete(count.get()));
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                if (keep) {
                    synchronized (bytes) {
                        b.getBytes(b.readerIndex(), bytes, b.readableBytes());
                    }
                }
                if (count.addAndGet(b.readableBytes()) >= target) {
                    reached.complete(count.get());
                }
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            } finally {
                b.release();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                eof.complete(count.get());
            } else if (evt == ChannelOutputShutdownEvent.INSTANCE) {
                outputShutdown.complete(null);
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            failure.complete(cause);
            ctx.close();
        }

        byte[] received() {
            synchronized (bytes) {
                return bytes.toByteArray();
            }
        }
    }

    /**
     * Writes {@code total} pseudo-random bytes (seeded) in random-sized chunks when active, then
     * shuts its output down; checks that what comes back is the same bytes, in order, and
     * completes {@link #done} with the count at end of input.
     */
    static final class RandomEcho extends ChannelInboundHandlerAdapter {
        final CompletableFuture<Long> done = new CompletableFuture<>();
        private final long seed;
        private final int total;
        private long received;

        RandomEcho(long seed, int total) {
            this.seed = seed;
            this.total = total;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Random data = new Random(seed);
            Random sizes = new Random(~seed);
            int left = total;
            while (left > 0) {
                int n = Math.min(left, 1 + sizes.nextInt(20_000));
                byte[] chunk = new byte[n];
                data.nextBytes(chunk);
                ctx.write(Unpooled.wrappedBuffer(chunk));
                left -= n;
            }
            ctx.flush();
            ((DuplexChannel) ctx.channel()).shutdownOutput();
            ctx.channel().closeFuture().addListener(f -> done.completeExceptionally(
                    new AssertionError("stream " + ctx.channel() + " closed after " + received + " of " + total)));
            ctx.fireChannelActive();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            try {
                byte[] got = new byte[b.readableBytes()];
                b.readBytes(got);
                byte[] want = new byte[got.length];
                for (int i = 0; i < got.length; i++) {
                    want[i] = nextExpected();
                }
                if (!java.util.Arrays.equals(got, want)) {
                    done.completeExceptionally(new AssertionError("stream " + ctx.channel() + ": wrong bytes at offset "
                            + received));
                }
                received += got.length;
            } finally {
                b.release();
            }
        }

        private Random replayData;
        private Random replayChunkSizes;
        private byte[] current;
        private int at;
        private int replayLeft = -1;

        /** The next byte the echo should return: the sender's chunks replayed in order. */
        private byte nextExpected() {
            if (replayData == null) {
                replayData = new Random(seed);
                replayChunkSizes = new Random(~seed);
                replayLeft = total;
            }
            if (current == null || at == current.length) {
                int n = Math.min(replayLeft, 1 + replayChunkSizes.nextInt(20_000));
                current = new byte[n];
                replayData.nextBytes(current);
                replayLeft -= n;
                at = 0;
            }
            return current[at++];
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt == ChannelInputShutdownEvent.INSTANCE) {
                if (received == total) {
                    done.complete(received);
                } else {
                    done.completeExceptionally(new AssertionError("stream " + ctx.channel() + ": " + received + " of "
                            + total + " bytes came back"));
                }
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            ctx.close();
        }
    }
}
