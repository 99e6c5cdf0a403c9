package io.mancom.core.internal.link;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.local.LocalIoHandler;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A {@link LinkChannel} on a real event loop: what it queued is released when the loop ends first. */
class LinkChannelTest {

    /**
     * The runtime closes while the session waits for its link to come back, with more queued than
     * the high-water mark: every queued write is released once the loop has ended (releasing them
     * must not fire a writability event on the ended loop, whose rejection stopped the release).
     */
    @Test
    void writesQueuedWhileSuspendedAreAllReleasedWhenTheLoopEnds() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        EventLoop loop = group.next();
        LinkSettings settings = LinkSettings.DEFAULTS.withReliable(true);
        ReliableSession s = new ReliableSession("test", settings, 8, 128, 0, loop, 1, 2, new LinkCounters(), x -> { }, x -> { });
        LinkChannel ch = new LinkChannel(s, null, null);
        s.channel(ch);
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(1024, 2048));
        loop.register(ch).sync();
        CountDownLatch released = new CountDownLatch(1);
        loop.terminationFuture().addListener(f -> released.countDown()); // after the channel's own listener
        List<ByteBuf> written = new ArrayList<>();
        loop.submit(() -> {
            for (int i = 0; i < 10; i++) {
                ByteBuf b = Unpooled.buffer(512).writeZero(512);
                written.add(b);
                ch.write(b);
            }
            ch.flush(); // no link below: the session leaves them queued
        }).sync();
        assertThat(ch.isWritable()).as("above the high-water mark").isFalse();
        assertThat(written).allMatch(b -> b.refCnt() == 1);
        group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
        assertThat(released.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(written).as("released after the loop ended").allMatch(b -> b.refCnt() == 0);
        assertThat(ch.isOpen()).isFalse();
        assertThat(s.state()).isEqualTo(ReliableSession.State.CLOSED);
    }
}
