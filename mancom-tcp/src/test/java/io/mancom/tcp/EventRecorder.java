package io.mancom.tcp;

import io.mancom.ChannelStatus;
import io.mancom.EventListener;
import io.mancom.ManComException;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** Keeps every event a runtime reports, for a test to take in order. */
final class EventRecorder extends EventListener {
    record Closed(ChannelStatus channel, Throwable cause) {
    }

    final BlockingQueue<ChannelStatus> opened = new LinkedBlockingQueue<>();
    final BlockingQueue<Closed> closed = new LinkedBlockingQueue<>();
    final BlockingQueue<ManComException> errors = new LinkedBlockingQueue<>();

    @Override
    public void connectionOpened(ChannelStatus channel) {
        opened.add(channel);
    }

    @Override
    public void connectionClosed(ChannelStatus channel, Throwable cause) {
        closed.add(new Closed(channel, cause));
    }

    @Override
    public void error(String service, ChannelStatus channel, ManComException error) {
        errors.add(error);
    }

    static <T> T next(BlockingQueue<T> q, Duration timeout) throws InterruptedException {
        T t = q.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (t == null) {
            throw new AssertionError("no event within " + timeout);
        }
        return t;
    }
}
