package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.StatusReporting;
import io.mancom.core.internal.monitor.ChannelStats;
import io.mancom.spi.Listener;
import io.netty.channel.ChannelFuture;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Serves a service on a device: a device has no "accept", so the listener opens it when the
 * service starts, and the open device is the service's one connection. When the device is lost
 * (unplugged, failed, or the connection was closed) the listener opens it again and hands over a
 * new channel: to the application that is a new accepted connection.
 *
 * <h2>Lifecycle</h2>
 * {@link #start} tries the first open at once, on a blocking thread. Each open device becomes a
 * {@link DeviceChannel}, registered on {@link NettyRuntime#group()} with auto-read off and handed
 * to {@link ChannelSink#channelOpened} on its event loop. {@link #ready()} completes with the
 * endpoint when the first open succeeds. While opening fails, the listener retries after
 * {@code reconnect.initial-delay}, doubling the wait up to {@code reconnect.max-delay}; after a
 * loss it waits until the old channel has released the device and then reopens after
 * {@code initial-delay}, backing off the same way. {@link #close()} stops the reopening; a channel
 * already handed out stays open (as the {@link Listener} contract says), and its owner closes it.
 *
 * <h2>Reporting</h2>
 * While the device cannot be opened, {@link #ready()} stays incomplete and {@link #status()} and
 * {@link #lastFailure()} say why, so that {@code awaitReady} can name the reason. With
 * {@code reconnect.enabled = off}, or for a {@link Reason#CONFIG} failure that waiting cannot fix,
 * the first failure fails {@link #ready()} instead and the listener gives up.
 *
 * <h2>Threading</h2>
 * Thread-safe. Opens run on {@link NettyRuntime#blockingExecutor()}, waits are scheduled on the
 * group's event loops, and the sink is called on the channel's event loop.
 */
public final class DeviceListener implements Listener, StatusReporting {
    private static final Logger log = LoggerFactory.getLogger(DeviceListener.class);

    private final EndPoint endpoint;
    private final DeviceOpener opener;
    private final ChannelSink sink;
    private final NettyRuntime runtime;
    private final ServiceSettings.Reconnect reconnect;
    private final DeviceChannel.Options options;
    private final CompletableFuture<EndPoint> ready = new CompletableFuture<>();

    // Guarded by this.
    private boolean closed;
    private DeviceChannel current;
    private ManComException lastFailure;
    private Throwable lastLoss;
    private long backoffMillis;
    private ScheduledFuture<?> scheduled;
    /** Whether the next open replaces a lost channel (a reconnect), and the attempts made since the loss. */
    private boolean reopening;
    private int attemptsSinceLoss;

    private DeviceListener(EndPoint endpoint, DeviceOpener opener, ChannelSink sink, NettyRuntime runtime,
                           DeviceChannel.Options options) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.opener = Objects.requireNonNull(opener, "opener");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.options = Objects.requireNonNull(options, "options");
        this.reconnect = sink.settings().reconnect();
        this.backoffMillis = Math.max(1, reconnect.initialDelay().toMillis());
    }

    /**
     * Starts serving {@code endpoint} for the sink's service, with the reconnect settings of
     * {@code sink.settings()}. Returns at once; the first open runs in the background. The
     * listener closes {@code opener} when it is closed.
     */
    public static DeviceListener start(EndPoint endpoint, DeviceOpener opener, ChannelSink sink, NettyRuntime runtime,
                                       DeviceChannel.Options options) {
        DeviceListener l = new DeviceListener(endpoint, opener, sink, runtime, options);
        l.submitAttempt();
        return l;
    }

    /**
     * Completes with the endpoint once the device was opened the first time; fails only when the
     * listener gives up (reconnect off, a {@link Reason#CONFIG} failure, or {@link #close()}).
     */
    @Override
    public CompletionStage<EndPoint> ready() {
        return ready;
    }

    /** The most recent open failure; empty once an open has succeeded since. */
    public synchronized Optional<ManComException> lastFailure() {
        return Optional.ofNullable(lastFailure);
    }

    /** The channel of the open device, if it is open now. */
    public synchronized Optional<DeviceChannel> channel() {
        return current != null && current.isOpen() ? Optional.of(current) : Optional.empty();
    }

    /**
     * Why the service is not being served now, for {@code awaitReady} and status displays, or
     * null while the device is open. For example: {@code "device cannot be opened yet: serial port
     * /dev/ttyUSB0 does not exist. Serial ports on this machine: /dev/ttyS0"}.
     */
    @Override
    public synchronized String status() {
        if (current != null && current.isOpen()) {
            return null;
        }
        if (closed) {
            return "listener closed";
        }
        String retry = reconnect.enabled() ? "" : " (not retrying: reconnect is off)";
        if (lastFailure != null) {
            return "device cannot be opened yet: " + lastFailure.getMessage() + retry;
        }
        if (lastLoss != null) {
            return "device lost: " + lastLoss.getMessage() + retry;
        }
        return "device not opened yet";
    }

    /**
     * Stops opening and reopening the device, and closes the opener (which ends a wait for the
     * device to be plugged in). A channel already handed out stays open. Idempotent.
     */
    @Override
    public void close() {
        ManComException last;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (scheduled != null) {
                scheduled.cancel(false);
                scheduled = null;
            }
            last = lastFailure;
        }
        opener.close();
        ready.completeExceptionally(new ManComException(Reason.CLOSED, "service '" + sink.service()
                + "': stopped before " + endpoint + " could be opened" + (last != null ? ": " + last.getMessage() : ""), last));
    }

    // ---- opening ----

    private void submitAttempt() {
        try {
            runtime.blockingExecutor().execute(this::attempt);
        } catch (RejectedExecutionException e) {
            log.debug("service '{}': not opening {}: the runtime is shutting down", sink.service(), endpoint);
        }
    }

    private void attempt() {
        synchronized (this) {
            scheduled = null;
            if (closed) {
                return;
            }
            attemptsSinceLoss++;
        }
        DeviceLink link;
        try {
            link = opener.open(endpoint);
        } catch (ManComException e) {
            openFailed(e);
            return;
        } catch (RuntimeException e) {
            openFailed(new ManComException(Reason.IO, "cannot open " + endpoint + ": " + e, e));
            return;
        }
        DeviceChannel ch = newChannel(link, runtime, options);
        ChannelFuture registration;
        try {
            registration = runtime.group().register(ch);
        } catch (RejectedExecutionException e) {
            ch.unsafe().closeForcibly();
            return; // the runtime is shutting down
        }
        registration.addListener(f -> {
            if (!f.isSuccess()) {
                ch.unsafe().closeForcibly();
                openFailed(new ManComException(Reason.IO, "cannot register the channel of " + endpoint + ": " + f.cause(), f.cause()));
                return;
            }
            opened(ch);
        });
    }

    static DeviceChannel newChannel(DeviceLink link, NettyRuntime runtime, DeviceChannel.Options options) {
        DeviceChannel ch = new DeviceChannel(link, runtime.blockingExecutor(), options);
        ch.config().setAllocator(runtime.alloc());
        // Nothing is read before the runtime's handlers are in place; the runtime turns reading on.
        ch.config().setAutoRead(false);
        ch.attr(ChannelSink.LOCAL_ENDPOINT).set(link.local());
        ch.attr(ChannelSink.REMOTE_ENDPOINT).set(link.remote());
        return ch;
    }

    private void opened(DeviceChannel ch) {
        assert ch.eventLoop().inEventLoop();
        synchronized (this) {
            if (closed) {
                ch.close();
                return;
            }
        }
        try {
            sink.channelOpened(ch);
        } catch (RuntimeException e) {
            ch.close();
            openFailed(new ManComException(Reason.IO, "service '" + sink.service() + "' could not take over " + endpoint + ": " + e, e));
            return;
        }
        boolean reopened;
        int attempts;
        synchronized (this) {
            current = ch;
            lastFailure = null;
            lastLoss = null;
            backoffMillis = Math.max(1, reconnect.initialDelay().toMillis());
            reopened = reopening;
            attempts = attemptsSinceLoss;
            reopening = false;
            attemptsSinceLoss = 0;
        }
        ch.closeFuture().addListener(f -> lost(ch));
        // The open and the reopen are logged on io.mancom.events (the monitor's events), one line each.
        log.debug("service '{}': opened {}", sink.service(), endpoint);
        ChannelStats stats = reopened ? ChannelStats.of(ch) : null;
        if (stats != null) {
            stats.reconnected(attempts);
        }
        ready.complete(endpoint);
    }

    private void lost(DeviceChannel ch) {
        Throwable cause = ch.closeCause();
        long delay;
        synchronized (this) {
            if (current == ch) {
                current = null;
            }
            lastLoss = cause != null ? cause : new ManComException(Reason.CLOSED, "the connection was closed");
            if (closed) {
                return;
            }
            if (!reconnect.enabled()) {
                log.warn("service '{}': {} closed{}; not reopening (reconnect is off)", sink.service(), endpoint,
                        cause != null ? ": " + cause.getMessage() : "");
                return;
            }
            delay = nextBackoff();
            reopening = true;
            attemptsSinceLoss = 0;
        }
        // The loss itself is the channel's close line on io.mancom.events (with its cause).
        log.debug("service '{}': {} closed{}; reopening in {} ms", sink.service(), endpoint,
                cause != null ? ": " + cause.getMessage() : "", delay);
        // The device is reopened only once the old channel has let go of it; until then an open
        // would find it busy (held by this very process).
        ch.releaseFuture().thenRun(() -> schedule(delay));
    }

    private void openFailed(ManComException e) {
        boolean retry;
        boolean changed;
        long delay;
        synchronized (this) {
            if (closed) {
                return;
            }
            changed = lastFailure == null || !Objects.equals(lastFailure.getMessage(), e.getMessage());
            lastFailure = e;
            retry = reconnect.enabled() && e.reason() != Reason.CONFIG;
            delay = retry ? nextBackoff() : 0;
        }
        if (!retry) {
            log.warn("service '{}': cannot open {}: {}", sink.service(), endpoint, e.getMessage());
            ready.completeExceptionally(e);
            return;
        }
        // Say it once, loudly; then quietly while the reason stays the same.
        if (changed) {
            log.warn("service '{}': cannot open {} (retrying, at most every {} ms): {}", sink.service(), endpoint,
                    reconnect.maxDelay().toMillis(), e.getMessage());
        } else {
            log.debug("service '{}': still cannot open {}: {}", sink.service(), endpoint, e.getMessage());
        }
        schedule(delay);
    }

    /** The wait before the next attempt; doubles the one after, up to max-delay. Holds this. */
    private long nextBackoff() {
        long delay = backoffMillis;
        backoffMillis = Math.min(Math.max(1, reconnect.maxDelay().toMillis()), backoffMillis * 2);
        return delay;
    }

    private void schedule(long delayMillis) {
        synchronized (this) {
            if (closed) {
                return;
            }
            try {
                scheduled = runtime.group().next().schedule(this::submitAttempt, delayMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                log.debug("service '{}': not reopening {}: the runtime is shutting down", sink.service(), endpoint);
            }
        }
    }
}
