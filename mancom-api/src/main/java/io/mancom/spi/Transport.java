package io.mancom.spi;

import io.mancom.EndPoint;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * One kind of link for one runtime: it listens (or opens devices) for services and dials for
 * clients, and hands every link it opens to a {@link LinkSink}.
 *
 * <p>Thread-safe. Failures are reported as {@link io.mancom.ManComException}s whose messages say
 * what to do (port in use, device missing, permission denied...).
 */
public interface Transport extends AutoCloseable {

    /**
     * Starts serving {@code endpoint}: a TCP transport binds and accepts, a device transport opens
     * the device (and reopens it after it is lost). Every link is handed to {@code sink}.
     * Returns at once; {@link Listener#ready()} tells when (and whether) it is serving.
     */
    Listener listen(EndPoint endpoint, LinkSink sink);

    /**
     * Opens one link to {@code endpoint} and hands it to {@code sink}.
     *
     * @return completes after the sink has the link, or fails with a
     *         {@link io.mancom.ManComException} (UNREACHABLE, TIMEOUT, ...)
     */
    CompletionStage<Void> connect(EndPoint endpoint, LinkSink sink, Duration timeout);

    /** Stops every listener and releases the transport's resources. */
    @Override
    void close();
}
