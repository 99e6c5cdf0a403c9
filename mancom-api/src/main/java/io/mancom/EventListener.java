package io.mancom;

/**
 * Told as things happen to a runtime's channels: open, close, failures, device reconnects. Set
 * one with {@link ManCom.Builder#eventListener}; the default is {@link #NONE}. Extend this class
 * and override the methods of interest; the others do nothing, and methods added later will do
 * nothing by default.
 *
 * <pre>{@code
 * ManCom.builder().eventListener(new EventListener() {
 *     @Override
 *     public void connectionClosed(ChannelStatus channel, Throwable cause) {
 *         if (cause != null) {
 *             failures.increment();
 *         }
 *     }
 * }).start();
 * }</pre>
 *
 * <h2>Contract</h2>
 * Methods are called on the channel's event-loop thread, while the runtime is moving bytes: a
 * listener must be <b>fast</b> (record and return; hand slow work to another thread), must
 * <b>take no locks</b> that other threads hold for long, must <b>never throw</b> (a listener that
 * throws is logged and its exception dropped), and must <b>never call back into the runtime</b>
 * (no {@code write}, {@code close}, {@code status()} or {@code connect} from a listener). One
 * listener instance serves every channel of the runtime, from several threads at once: keep its
 * state thread-safe. Events of one channel arrive in order (opened, then any errors, then closed).
 *
 * <h2>Which channels</h2>
 * Every kind of {@link ChannelStatus.Kind}: TCP connections, devices, mux sessions and mux
 * streams.
 */
public abstract class EventListener {

    /** A listener that does nothing: the default. */
    public static final EventListener NONE = new EventListener() {
    };

    /** For subclasses. */
    protected EventListener() {
    }

    /** A channel opened; {@code channel} is its status at that moment. */
    public void connectionOpened(ChannelStatus channel) {
    }

    /**
     * A channel closed; {@code channel} is its final status ({@link ChannelStatus#closeCause()}
     * says why in words).
     *
     * @param cause the failure that closed it, usually a {@link ManComException}; null for an
     *              orderly close by either side
     */
    public void connectionClosed(ChannelStatus channel, Throwable cause) {
    }

    /**
     * A failure that did not (only) close a channel: a service that cannot bind or open its
     * device, a write refused because the queue is full, a protocol error a mux session survived.
     * Failures that close a channel come as {@link #connectionClosed} with a cause instead.
     *
     * @param service the service concerned
     * @param channel the channel concerned, or null for a failure of the service itself
     * @param error   what went wrong; {@link ManComException#reason()} classifies it
     */
    public void error(String service, ChannelStatus channel, ManComException error) {
    }

    /**
     * A device that was lost is open again; {@code channel} is the new channel (already reported
     * by {@link #connectionOpened}).
     *
     * @param attempts the attempts it took to reopen it (at least 1)
     */
    public void reconnect(ChannelStatus channel, int attempts) {
    }
}
