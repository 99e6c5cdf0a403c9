package io.mancom.core.spi.device;

import io.mancom.EndPoint;

import java.util.Objects;

/**
 * How a device transport opens its devices, for {@link DeviceTransport}: a new opener for each
 * service that listens (which may wait for its device to be plugged in, see
 * {@link DeviceOpener}), an opener for each client connect (which must fail at once when the
 * device is not there), and whatever the openers share (a USB context) released when the
 * transport closes.
 *
 * <h2>Lifecycle and threading</h2>
 * Thread-safe. {@link #forListener} and {@link #forClient} may be called from any thread, and
 * must not block or touch the device: opening happens in the opener. {@link #close()} is called
 * once the transport's listeners are stopped, and releases what the openers share; links still
 * open on it may be closed by it (their channels then fail or close as for any device loss).
 */
public interface DeviceOpeners extends AutoCloseable {

    /**
     * The opener of one listening service: the {@link DeviceListener} of {@code endpoint} uses it
     * for every open and reopen, and {@linkplain DeviceOpener#close() closes} it when it stops.
     */
    DeviceOpener forListener(EndPoint endpoint);

    /** The opener of one client connect to {@code endpoint}; used once, never closed. */
    DeviceOpener forClient(EndPoint endpoint);

    /** Releases what the openers share, after the listeners stopped. Idempotent; the default does nothing. */
    @Override
    default void close() {
    }

    /**
     * One opener for everything: for devices that are opened by path and never waited for (the
     * serial transport). The listeners' close does not reach it.
     */
    static DeviceOpeners of(DeviceOpener opener) {
        Objects.requireNonNull(opener, "opener");
        return new DeviceOpeners() {
            @Override
            public DeviceOpener forListener(EndPoint endpoint) {
                return opener::open; // its own close() does nothing, whatever the shared opener's does
            }

            @Override
            public DeviceOpener forClient(EndPoint endpoint) {
                return opener;
            }
        };
    }
}
