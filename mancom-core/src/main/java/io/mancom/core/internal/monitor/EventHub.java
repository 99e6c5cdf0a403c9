package io.mancom.core.internal.monitor;

import io.mancom.ChannelStatus;
import io.mancom.EventListener;
import io.mancom.ManComException;

import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Hands every event, as one JSON line, to the control socket's {@code /events} subscribers. When
 * nobody subscribes an event costs one list read. Each subscriber has a bounded queue of its own
 * ({@link SseSubscriber}): a slow one is dropped, never waited for. Thread-safe; events arrive
 * on the event loops.
 */
final class EventHub extends EventListener {
    private final CopyOnWriteArrayList<SseSubscriber> subscribers = new CopyOnWriteArrayList<>();

    void subscribe(SseSubscriber s) {
        subscribers.add(s);
    }

    void unsubscribe(SseSubscriber s) {
        subscribers.remove(s);
    }

    int subscribers() {
        return subscribers.size();
    }

    @Override
    public void connectionOpened(ChannelStatus c) {
        if (!subscribers.isEmpty()) {
            publish(Json.event("open", c.service(), c, null, null));
        }
    }

    @Override
    public void connectionClosed(ChannelStatus c, Throwable cause) {
        if (!subscribers.isEmpty()) {
            publish(Json.event("close", c.service(), c, c.closeCause(), null));
        }
    }

    @Override
    public void error(String service, ChannelStatus c, ManComException error) {
        if (!subscribers.isEmpty()) {
            publish(Json.event("error", service, c, error.reason() + ": " + error.getMessage(), null));
        }
    }

    @Override
    public void reconnect(ChannelStatus c, int attempts) {
        if (!subscribers.isEmpty()) {
            publish(Json.event("reconnect", c.service(), c, null, attempts));
        }
    }

    private void publish(String json) {
        for (SseSubscriber s : subscribers) {
            if (!s.offer(json)) {
                subscribers.remove(s);
            }
        }
    }
}
