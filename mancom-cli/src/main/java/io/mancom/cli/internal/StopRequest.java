package io.mancom.cli.internal;

import io.mancom.core.internal.Signals;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * How a long-running command ({@code serve}, {@code daemon}) learns it should stop: {@link #stop()},
 * SIGTERM or SIGINT, or the JVM shutting down for another reason. A signal only asks; the command's
 * own thread closes what it runs and then calls {@link #stopped()}, so closing happens once, in one
 * place, and a shutdown hook waits (at most 15 s) for it instead of racing it.
 *
 * <p>Threading: {@link #await} runs on the command's thread, once; {@link #stop()} from any thread.
 */
final class StopRequest {
    private final String name;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch stopped = new CountDownLatch(1);

    /** {@code name} names the shutdown hook's thread ({@code mancom-NAME-shutdown}). */
    StopRequest(String name) {
        this.name = name;
    }

    /**
     * Installs the signal handlers and the shutdown hook, runs {@code installed} (which tells the
     * user how to stop: only now will a signal they send find the handlers), and waits for a stop.
     * The handlers and the hook are removed before it returns.
     */
    void await(Runnable installed) throws InterruptedException {
        Thread hook = new Thread(this::stopAndWait, "mancom-" + name + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try (Signals signals = Signals.install(stop::countDown, "TERM", "INT")) {
            installed.run();
            stop.await();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running (the JVM is shutting down); it ends once stopped() is called.
            }
        }
    }

    /** Asks {@link #await} to return. */
    void stop() {
        stop.countDown();
    }

    /** Says everything is closed; a running shutdown hook may let the JVM end. */
    void stopped() {
        stopped.countDown();
    }

    private void stopAndWait() {
        stop.countDown();
        try {
            // Bounded: a JVM being terminated should not hang on a runtime that will not close.
            stopped.await(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
