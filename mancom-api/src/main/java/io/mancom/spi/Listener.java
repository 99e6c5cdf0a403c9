package io.mancom.spi;

import io.mancom.EndPoint;

import java.util.concurrent.CompletionStage;

/**
 * A service's endpoint being served by a {@link Transport}.
 */
public interface Listener extends AutoCloseable {

    /**
     * Completes with the endpoint actually served (an ephemeral port resolved) once the transport
     * is listening, or fails with a {@link io.mancom.ManComException} saying why it cannot.
     */
    CompletionStage<EndPoint> ready();

    /** Stops listening; links already handed out stay open. Idempotent. */
    @Override
    void close();
}
