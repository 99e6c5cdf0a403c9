package io.mancom.core.internal.mux;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Keepalive and idle timeout of a session: asks for a Keepalive after {@code keepalive-interval}
 * without writing, and reports the peer silent after {@code idle-timeout} without reading. Each
 * timer re-arms itself for the remaining time instead of ticking at a fixed rate, so a busy link
 * costs no timer work per frame. Event loop only.
 */
final class Liveness {

    /** What the timers ask the session to do. */
    interface Actions {
        /** Nothing was written for a keepalive interval: send a Keepalive now. */
        void sendKeepalive();

        /** Nothing was read for the idle timeout: end the session. */
        void peerSilent();
    }

    private final EventExecutor executor;
    private final long keepaliveNanos;
    private final long idleNanos;
    private final Actions actions;
    private long lastRead;
    private long lastWrite;
    private ScheduledFuture<?> keepaliveTimer;
    private ScheduledFuture<?> idleTimer;
    private boolean stopped;

    /** @param keepalive zero for none; @param idle zero for none */
    Liveness(EventExecutor executor, Duration keepalive, Duration idle, Actions actions) {
        this.executor = executor;
        this.keepaliveNanos = keepalive.toNanos();
        this.idleNanos = idle.toNanos();
        this.actions = actions;
    }

    void start() {
        lastRead = lastWrite = System.nanoTime();
        if (keepaliveNanos > 0) {
            keepaliveTimer = executor.schedule(this::keepaliveTick, keepaliveNanos, TimeUnit.NANOSECONDS);
        }
        if (idleNanos > 0) {
            idleTimer = executor.schedule(this::idleTick, idleNanos, TimeUnit.NANOSECONDS);
        }
    }

    void read() {
        lastRead = System.nanoTime();
    }

    void wrote() {
        lastWrite = System.nanoTime();
    }

    void stop() {
        stopped = true;
        if (keepaliveTimer != null) {
            keepaliveTimer.cancel(false);
        }
        if (idleTimer != null) {
            idleTimer.cancel(false);
        }
    }

    private void keepaliveTick() {
        if (stopped) {
            return;
        }
        long quiet = System.nanoTime() - lastWrite;
        if (quiet >= keepaliveNanos) {
            actions.sendKeepalive(); // which calls wrote()
            quiet = 0;
        }
        keepaliveTimer = executor.schedule(this::keepaliveTick, keepaliveNanos - quiet, TimeUnit.NANOSECONDS);
    }

    private void idleTick() {
        if (stopped) {
            return;
        }
        long silent = System.nanoTime() - lastRead;
        if (silent >= idleNanos) {
            actions.peerSilent();
            return;
        }
        idleTimer = executor.schedule(this::idleTick, idleNanos - silent, TimeUnit.NANOSECONDS);
    }
}
