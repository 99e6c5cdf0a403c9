package io.mancom.core.spi.device;

import com.typesafe.config.ConfigFactory;
import io.mancom.EndPoint;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.ServiceSettings;
import io.netty.channel.Channel;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Stands in for the runtime: takes each channel, puts a fresh handler last, and turns reading on. */
final class TestSink implements ChannelSink {
    private final ServiceSettings settings;
    private final Supplier<Recorder> handlers;
    final BlockingQueue<Opened> opened = new LinkedBlockingQueue<>();

    record Opened(Channel channel, Recorder recorder) {
    }

    TestSink(EndPoint endpoint, ServiceSettings.Reconnect reconnect, Supplier<Recorder> handlers) {
        this.settings = new ServiceSettings("test", endpoint, "echo", Duration.ofSeconds(5),
                new ServiceSettings.WriteBuffer(32 * 1024, 64 * 1024, 16 << 20),
                new ServiceSettings.Blocking(256 * 1024, 16), reconnect, ConfigFactory.empty());
        this.handlers = handlers;
    }

    @Override
    public String service() {
        return "test";
    }

    @Override
    public ServiceSettings settings() {
        return settings;
    }

    @Override
    public void channelOpened(Channel channel) {
        if (!channel.eventLoop().inEventLoop()) {
            throw new AssertionError("channelOpened off the event loop");
        }
        if (!channel.isActive() || !channel.isRegistered()) {
            throw new AssertionError("channelOpened with a channel that is not registered and active");
        }
        Recorder r = handlers.get();
        channel.pipeline().addLast(r);
        channel.config().setAutoRead(true);
        opened.add(new Opened(channel, r));
    }

    Opened next(Duration timeout) throws InterruptedException {
        Opened o = opened.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (o == null) {
            throw new AssertionError("no channel opened within " + timeout);
        }
        return o;
    }
}
