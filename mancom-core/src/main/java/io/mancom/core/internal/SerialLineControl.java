package io.mancom.core.internal;

import io.mancom.ManComException;
import io.mancom.ModemStatus;
import io.mancom.ModemStatusListener;
import io.mancom.SerialAddress;
import io.mancom.SerialLine;
import io.mancom.spi.LineControl;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@link SerialLine} of one {@link ChannelConnection} over a transport's {@link LineControl}: adds
 * the closed checks, the modem-line polling on the connection's event loop, the break's timer and
 * running {@code reconfigure} on a blocking thread.
 *
 * <p>The listener and the poll task are touched on the event loop only (set through
 * {@link ChannelConnection#onLoop}), so they need no lock.
 */
final class SerialLineControl implements SerialLine {
    private static final Logger log = LoggerFactory.getLogger(SerialLineControl.class);
    /** How often the modem lines are read while a listener is set. */
    static final long POLL_MILLIS = 10;
    private static final Duration MAX_BREAK = Duration.ofSeconds(10);

    private final ChannelConnection connection;
    private final LineControl control;
    private final EventLoop loop;
    private final Executor blocking;
    /** Event loop only. */
    private ModemStatusListener listener;
    private ModemStatus last;
    private ScheduledFuture<?> poll;

    SerialLineControl(ChannelConnection connection, LineControl control, EventLoop loop, Executor blocking) {
        this.connection = connection;
        this.control = control;
        this.loop = loop;
        this.blocking = blocking;
        connection.closeFuture().whenComplete((v, e) -> connection.onLoop(this::stopPolling));
    }

    private void checkOpen() throws ManComException {
        if (!connection.isOpen()) {
            throw connection.closedException();
        }
    }

    @Override
    public SerialAddress settings() {
        return control.settings();
    }

    @Override
    public void setDtr(boolean on) throws ManComException {
        checkOpen();
        control.setDtr(on);
    }

    @Override
    public void setRts(boolean on) throws ManComException {
        checkOpen();
        control.setRts(on);
    }

    @Override
    public ModemStatus modemStatus() throws ManComException {
        checkOpen();
        control.checkModemLines();
        return control.modemStatus();
    }

    @Override
    public void setModemStatusListener(ModemStatusListener l) throws ManComException {
        checkOpen();
        if (l != null) {
            control.checkModemLines();
        }
        connection.onLoop(() -> {
            listener = l;
            if (l == null) {
                stopPolling();
            } else if (poll == null && connection.isOpen()) {
                last = null;
                pollOnce(); // the state changes are counted from, read now
                if (listener != null) {
                    poll = loop.scheduleWithFixedDelay(this::pollOnce, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
                }
            }
        });
    }

    private void pollOnce() {
        ModemStatusListener l = listener;
        if (l == null || !connection.isOpen()) {
            stopPolling();
            return;
        }
        ModemStatus now;
        try {
            now = control.modemStatus();
        } catch (ManComException e) {
            log.debug("{}: reading the modem lines failed; the listener is dropped", connection, e);
            listener = null;
            stopPolling();
            return;
        }
        ModemStatus before = last;
        last = now;
        if (before != null && !before.equals(now)) {
            try {
                l.modemStatusChanged(before, now);
            } catch (RuntimeException e) {
                log.warn("{}: the modem-status listener threw; it is removed", connection, e);
                listener = null;
                stopPolling();
            }
        }
    }

    private void stopPolling() {
        listener = null;
        if (poll != null) {
            poll.cancel(false);
            poll = null;
        }
    }

    @Override
    public CompletionStage<Void> sendBreak(Duration duration) {
        if (duration.compareTo(Duration.ofMillis(1)) < 0 || duration.compareTo(MAX_BREAK) > 0) {
            throw new IllegalArgumentException("break duration must be 1 ms to 10 s: " + duration);
        }
        try {
            checkOpen();
            control.setBreak(true);
        } catch (ManComException e) {
            return CompletableFuture.failedFuture(e);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            // A timer, not a sleep: the loop (and the caller) stay free while the line is held.
            loop.schedule(() -> endBreak(done), duration.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            endBreak(done);
        }
        return done;
    }

    private void endBreak(CompletableFuture<Void> done) {
        try {
            checkOpen(); // closed during the break: the port is gone, and so is its break
            control.setBreak(false);
            done.complete(null);
        } catch (ManComException e) {
            done.completeExceptionally(e);
        }
    }

    @Override
    public CompletionStage<Void> reconfigure(SerialAddress settings) {
        String device = control.settings().device();
        if (!settings.device().equals(device)) {
            throw new IllegalArgumentException("reconfigure keeps the device: " + settings.device() + " is not " + device);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable task = () -> {
            try {
                checkOpen();
                control.reconfigure(settings);
                done.complete(null);
            } catch (ManComException e) {
                done.completeExceptionally(e);
            } catch (RuntimeException e) {
                done.completeExceptionally(new ManComException(ManComException.Reason.IO,
                        "reconfiguring serial port " + device + " failed: " + e, e));
            }
        };
        try {
            blocking.execute(task);
        } catch (RejectedExecutionException e) {
            done.completeExceptionally(connection.closedException());
        }
        return done;
    }

    @Override
    public String toString() {
        return "SerialLine[" + connection + "]";
    }
}
