package io.mancom;

/**
 * A callback registered with {@link ManCom#registerAcceptor} or {@link ManCom#registerDataReceiver}.
 *
 * <p>{@link #close()} removes the callback. When the last registration of a service is closed the
 * runtime stops listening for that service and closes its open connections. Thread-safe and
 * idempotent.
 */
public interface Registration extends AutoCloseable {

    /** The service the callback was registered for. */
    String service();

    /** Removes the callback; see the class description. Never throws. */
    @Override
    void close();
}
