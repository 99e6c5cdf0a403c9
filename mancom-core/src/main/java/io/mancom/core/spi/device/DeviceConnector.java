package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.NettyRuntime;
import io.netty.channel.ChannelFuture;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client side of a device transport: opens the device once (no reopening) and hands the
 * channel to the sink, as a TCP connect hands over its socket.
 *
 * <p>Thread-safe and stateless. The open runs on {@link NettyRuntime#blockingExecutor()}; the
 * channel is registered with auto-read off and given to {@link ChannelSink#channelOpened} on its
 * event loop. If opening takes longer than the timeout, the future fails with
 * {@link Reason#TIMEOUT} and a device that opens later is closed again.
 */
public final class DeviceConnector {
    private DeviceConnector() {
    }

    /**
     * Opens {@code endpoint} with {@code opener} for {@code sink}.
     *
     * @return completes once the sink has the channel; fails with the opener's
     *         {@link ManComException} (NO_DEVICE, PERMISSION_DENIED, BUSY, ...) or TIMEOUT
     */
    public static CompletableFuture<Void> connect(EndPoint endpoint, DeviceOpener opener, ChannelSink sink,
                                                  NettyRuntime runtime, DeviceChannel.Options options, Duration timeout) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        // Whoever sets this first decides the outcome: the open handing the channel over, or the timer.
        AtomicBoolean decided = new AtomicBoolean();
        ScheduledFuture<?> timer;
        try {
            timer = runtime.group().next().schedule(() -> {
                if (decided.compareAndSet(false, true)) {
                    done.completeExceptionally(new ManComException(Reason.TIMEOUT, "service '" + sink.service()
                            + "': opening " + endpoint + " took longer than " + timeout + " (connect-timeout)"));
                }
            }, Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
            runtime.blockingExecutor().execute(() -> open(endpoint, opener, sink, runtime, options, done, decided));
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(new ManComException(Reason.CLOSED, "the runtime is shutting down", e));
            return done;
        }
        done.whenComplete((v, t) -> timer.cancel(false));
        return done;
    }

    private static void open(EndPoint endpoint, DeviceOpener opener, ChannelSink sink, NettyRuntime runtime,
                             DeviceChannel.Options options, CompletableFuture<Void> done, AtomicBoolean decided) {
        DeviceLink link;
        try {
            link = opener.open(endpoint);
        } catch (ManComException e) {
            if (decided.compareAndSet(false, true)) {
                done.completeExceptionally(e);
            }
            return;
        } catch (RuntimeException e) {
            if (decided.compareAndSet(false, true)) {
                done.completeExceptionally(new ManComException(Reason.IO, "cannot open " + endpoint + ": " + e, e));
            }
            return;
        }
        if (decided.get()) {
            link.close(); // timed out meanwhile
            return;
        }
        DeviceChannel ch = DeviceListener.newChannel(link, runtime, options);
        ChannelFuture registration;
        try {
            registration = runtime.group().register(ch);
        } catch (RejectedExecutionException e) {
            ch.unsafe().closeForcibly();
            if (decided.compareAndSet(false, true)) {
                done.completeExceptionally(new ManComException(Reason.CLOSED, "the runtime is shutting down", e));
            }
            return;
        }
        registration.addListener(f -> {
            if (!f.isSuccess()) {
                ch.unsafe().closeForcibly();
                if (decided.compareAndSet(false, true)) {
                    done.completeExceptionally(new ManComException(Reason.IO,
                            "cannot register the channel of " + endpoint + ": " + f.cause(), f.cause()));
                }
                return;
            }
            if (!decided.compareAndSet(false, true)) {
                ch.close(); // timed out meanwhile
                return;
            }
            try {
                sink.channelOpened(ch);
            } catch (RuntimeException e) {
                ch.close();
                done.completeExceptionally(e);
                return;
            }
            done.complete(null);
        });
    }
}
