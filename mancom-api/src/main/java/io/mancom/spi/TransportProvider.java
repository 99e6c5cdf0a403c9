package io.mancom.spi;

import io.mancom.TransportType;

/**
 * Makes the {@link Transport} for one URI scheme. Listed in
 * {@code META-INF/services/io.mancom.spi.TransportProvider}.
 *
 * <p>The constructor must be cheap and do no I/O: the runtime instantiates every provider on the
 * class path to learn their schemes. A provider that fails to load is reported and skipped; two
 * providers for one scheme are a startup error.
 */
public interface TransportProvider {

    /** The URI scheme served, lower case, for example {@code tcp}. */
    String scheme();

    /** The transport type of that scheme. */
    TransportType type();

    /**
     * Creates the transport for one runtime. Called at most once per runtime, the first time a
     * service needs the scheme; the runtime closes the transport when it closes.
     */
    Transport create(TransportContext context);
}
