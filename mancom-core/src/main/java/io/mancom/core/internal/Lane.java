package io.mancom.core.internal;

import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs one connection's callbacks one at a time and in order, each on the executor its
 * registration named (or the event loop). When nothing is queued and a callback has no executor
 * it runs inline on the loop, so the common case costs nothing but one volatile read.
 *
 * <p>Tasks are submitted only from the connection's event loop; that is what makes the inline
 * check safe: if nothing is pending when the loop looks, nothing can be added behind its back.
 */
final class Lane {
    private static final Logger log = LoggerFactory.getLogger(Lane.class);

    private final EventLoop loop;
    private final AtomicInteger pending = new AtomicInteger();
    private final ConcurrentLinkedQueue<Task> queue = new ConcurrentLinkedQueue<>();

    private record Task(Executor executor, Runnable body) {
    }

    Lane(EventLoop loop) {
        this.loop = loop;
    }

    /** Runs {@code body} after every earlier task, on {@code executor} (null: the event loop). */
    void submit(Executor executor, Runnable body) {
        assert loop.inEventLoop();
        if (executor == null && pending.get() == 0) {
            body.run();
            return;
        }
        queue.add(new Task(executor, body));
        if (pending.getAndIncrement() == 0) {
            runHead();
        }
    }

    /** Whether callbacks are still queued (for backpressure decisions). */
    boolean isBusy() {
        return pending.get() != 0;
    }

    private void runHead() {
        Task t = queue.peek();
        Executor e = t.executor() != null ? t.executor() : loop;
        try {
            e.execute(this::runOne);
        } catch (RejectedExecutionException rejected) {
            // The application shut its executor down: run on the loop rather than lose the event.
            log.warn("callback executor rejected a task; running it on the event loop instead");
            loop.execute(this::runOne);
        }
    }

    private void runOne() {
        Task t = queue.poll();
        try {
            t.body().run();
        } finally {
            if (pending.decrementAndGet() > 0) {
                runHead();
            }
        }
    }
}
