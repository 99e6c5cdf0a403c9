package io.mancom.core.internal.link;

import com.typesafe.config.ConfigFactory;
import io.mancom.EndPoint;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.ServiceSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Two reliable-link sides on EmbeddedChannels joined by an in-test line that loses, corrupts,
 * duplicates and reorders what goes through it, all from a seed; time is a shared mock ticker the
 * test advances. Side A dials (a leader), side B listens on TCP (a follower).
 */
final class LossyPair implements AutoCloseable {
    /** What the line does to each chunk (one encoded frame, usually) that crosses it. */
    static final class Faults {
        double drop;
        double flipPerByte;
        double duplicate;
        double reorder;
        double garbage;
        boolean cut;   // nothing crosses at all (a cable pulled)
    }

    final MockTicker ticker = Ticker.newMockTicker();
    final Random random;
    final Faults faults = new Faults();
    final Side a;
    final Side b;

    LossyPair(long seed, LinkSettings settings) {
        this(seed, settings, settings);
    }

    LossyPair(long seed, LinkSettings settingsA, LinkSettings settingsB) {
        this(seed, settingsA, settingsB, false);
    }

    /** @param bLeads B leads too (as both ends of a serial line do) instead of answering as a TCP listener */
    LossyPair(long seed, LinkSettings settingsA, LinkSettings settingsB, boolean bLeads) {
        this.random = new Random(seed);
        this.a = new Side("a", settingsA, true);
        this.b = new Side("b", settingsB, bLeads);
    }

    final class Side {
        final ReliableLinkSink sink;
        EmbeddedChannel link;
        final EmbeddedChannel home = EmbeddedChannel.builder().ticker(ticker).build(); // the session's loop
        Channel upper;
        final ByteArrayOutputStream received = new ByteArrayOutputStream();
        final Deque<ByteBuf> held = new ArrayDeque<>();
        /** HELLO frames this side put on the line. */
        int hellosSent;
        /** The upper channel's reader closes it on its first read (as a handler that has had enough). */
        boolean closeOnRead;
        Throwable closeCause;
        boolean closed;

        Side(String name, LinkSettings settings, boolean dialed) {
            ServiceSettings ss = new ServiceSettings(name, EndPoint.tcp("127.0.0.1", 7), "echo", Duration.ofSeconds(5),
                    new ServiceSettings.WriteBuffer(32 * 1024, 64 * 1024, 16 << 20),
                    new ServiceSettings.Blocking(256 * 1024, 16), new ServiceSettings.Reconnect(true,
                    Duration.ofMillis(100), Duration.ofSeconds(1)), ConfigFactory.empty());
            ChannelSink inner = new ChannelSink() {
                @Override
                public String service() {
                    return name;
                }

                @Override
                public ServiceSettings settings() {
                    return ss;
                }

                @Override
                public void channelOpened(Channel ch) {
                    upper = ch;
                    ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf buf = (ByteBuf) msg;
                            byte[] bytes = new byte[buf.readableBytes()];
                            buf.readBytes(bytes);
                            received.writeBytes(bytes);
                            buf.release();
                            if (closeOnRead) {
                                ctx.close();
                            }
                        }

                        @Override
                        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                            closeCause = cause;
                        }

                        @Override
                        public void channelInactive(ChannelHandlerContext ctx) {
                            closed = true;
                        }
                    });
                    ch.config().setAutoRead(true);
                    ch.read();
                }
            };
            sink = new ReliableLinkSink(inner, settings, dialed, e -> closeCause = e, null);
            sink.loopFor = ch -> home.eventLoop();
            plug();
        }

        /** A new link below (the first, or after an unplug). */
        void plug() {
            link = EmbeddedChannel.builder().ticker(ticker).build();
            link.config().setAutoRead(false);
            sink.channelOpened(link);
        }

        void write(byte[] data) {
            upper.writeAndFlush(Unpooled.wrappedBuffer(data));
        }
    }

    /** Moves what each side sent across the line, runs the loops, and advances time by {@code millis}. */
    void step(long millis) {
        moveAndRun();
        ticker.advance(millis, TimeUnit.MILLISECONDS);
    }

    /** Moves what each side sent across the line and runs the loops; the nanoseconds to the next timer, or -1. */
    private long moveAndRun() {
        cross(a, b);
        cross(b, a);
        long next = Long.MAX_VALUE;
        for (Side s : new Side[]{a, b}) {
            s.link.runPendingTasks();
            next = min(next, s.link.runScheduledPendingTasks());
            s.home.runPendingTasks();
            next = min(next, s.home.runScheduledPendingTasks());
        }
        return next == Long.MAX_VALUE ? -1 : next;
    }

    private static long min(long a, long b) {
        return b < 0 ? a : Math.min(a, b);
    }

    private boolean quiet() {
        return a.link.outboundMessages().isEmpty() && b.link.outboundMessages().isEmpty();
    }

    private void cross(Side from, Side to) {
        if (!to.link.isOpen()) {
            for (ByteBuf chunk; (chunk = from.link.readOutbound()) != null; ) {
                chunk.release();
            }
            return;
        }
        for (ByteBuf chunk; (chunk = from.link.readOutbound()) != null; ) {
            from.hellosSent += hellos(chunk);
            if (faults.cut || !to.link.isOpen() || random.nextDouble() < faults.drop) {
                chunk.release();
                continue;
            }
            for (int i = chunk.readerIndex(); i < chunk.writerIndex(); i++) {
                if (random.nextDouble() < faults.flipPerByte) {
                    chunk.setByte(i, chunk.getByte(i) ^ (1 << random.nextInt(8)));
                }
            }
            if (random.nextDouble() < faults.garbage) {
                byte[] g = new byte[1 + random.nextInt(30)];
                random.nextBytes(g);
                to.link.writeInbound(Unpooled.wrappedBuffer(g));
            }
            if (random.nextDouble() < faults.duplicate) {
                to.link.writeInbound(chunk.retainedDuplicate());
            }
            if (random.nextDouble() < faults.reorder) {
                to.held.add(chunk);
                continue;
            }
            to.link.writeInbound(chunk);
            while (!to.held.isEmpty() && random.nextBoolean()) {
                to.link.writeInbound(to.held.poll());
            }
        }
        if (to.link.isOpen()) {
            to.link.flushInbound();
        }
    }

    /** The HELLO frames in {@code chunk} (encoded frames and delimiters, as a side wrote them). */
    private static int hellos(ByteBuf chunk) {
        byte[] bytes = new byte[chunk.readableBytes()];
        chunk.getBytes(chunk.readerIndex(), bytes);
        int n = 0;
        for (int start = 0, i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == 0) {
                ByteBuf body = Unpooled.buffer();
                if (i > start && Cobs.decode(java.util.Arrays.copyOfRange(bytes, start, i), i - start, body)
                        && body.isReadable() && body.getByte(0) == LinkFrames.HELLO) {
                    n++;
                }
                body.release();
                start = i + 1;
            }
        }
        return n;
    }

    /**
     * Steps until {@code done} or {@code maxMillis} of mock time passed; whether it got done. While
     * nothing crosses the line, time jumps to the next timer instead of 1 ms at a time.
     */
    boolean runUntil(java.util.function.BooleanSupplier done, long maxMillis) {
        long end = ticker.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        while (ticker.nanoTime() - end < 0) {
            if (done.getAsBoolean()) {
                return true;
            }
            long next = moveAndRun();
            long advance = TimeUnit.MILLISECONDS.toNanos(1);
            if (quiet() && next > advance) {
                advance = next;
            }
            ticker.advance(Math.min(advance, end - ticker.nanoTime() + 1), TimeUnit.NANOSECONDS);
        }
        for (Side s : new Side[]{a, b}) {
            s.link.checkException(); // a handler's failure, rather than a silent timeout
            s.home.checkException();
        }
        return done.getAsBoolean();
    }

    @Override
    public void close() {
        for (Side s : new Side[]{a, b}) {
            s.held.forEach(ByteBuf::release);
            s.held.clear();
            if (s.upper != null) {
                s.upper.close();
            }
            s.link.runPendingTasks();
            s.link.finishAndReleaseAll();
            s.home.runPendingTasks();
            s.home.finishAndReleaseAll();
        }
    }
}
