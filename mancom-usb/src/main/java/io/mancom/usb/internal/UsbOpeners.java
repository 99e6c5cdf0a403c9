package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.device.DeviceChannel;
import io.mancom.core.spi.device.DeviceOpener;
import io.mancom.core.spi.device.DeviceOpeners;
import io.mancom.core.spi.device.DeviceTransport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the {@code usb} transport adds to mancom-core's {@link DeviceTransport}: {@link UsbOpener}s
 * over one backend (a libusb context) and its {@link DeviceWatcher}. A listening service gets an
 * opener that waits for its device to be plugged in (hotplug events, or polling where there are
 * none); a client connect gets one that fails at once when the device is not there.
 *
 * <h2>Lifecycle</h2>
 * The backend starts with the first open, not with the transport, so a runtime that serves no USB
 * endpoint never loads libusb; if it cannot start, that open fails with
 * {@link UsbErrors#cannotStart} and the next one tries again. {@link #close()} (the transport
 * calls it after stopping its listeners) closes the links still open (the backend must outlive
 * them), then stops the watcher and the backend; opens after it fail with {@code CLOSED}.
 *
 * <p>Thread-safe.
 */
public final class UsbOpeners implements DeviceOpeners {
    private static final Logger log = LoggerFactory.getLogger(UsbOpeners.class);

    /**
     * 16 KiB chunks (one IN transfer), 4 of them read ahead by the channel, 64 KiB write batches
     * (split into 16 KiB OUT transfers by the link).
     */
    public static final DeviceChannel.Options OPTIONS = new DeviceChannel.Options(UsbLink.TRANSFER_BYTES, 4, 64 * 1024);
    /** The longest a listener's open waits for an arrival before it looks again by itself. */
    static final Duration ARRIVAL_WAIT = Duration.ofSeconds(30);
    private static final Duration LINK_CLOSE_WAIT = Duration.ofSeconds(3);

    /** Starts the backend; a {@link UsbBackendFactory} with its argument. */
    @FunctionalInterface
    public interface BackendStarter {
        UsbBackend start() throws UsbBackendException;
    }

    private final UsbConfig config;
    private final BackendStarter starter;
    private final String backendName;
    private final UsbErrors errors;
    private UsbOpener.Session session; // guarded by this
    private boolean closed; // guarded by this

    public UsbOpeners(UsbConfig config, String backendName, BackendStarter starter, UsbErrors errors) {
        this.config = Objects.requireNonNull(config, "config");
        this.backendName = Objects.requireNonNull(backendName, "backendName");
        this.starter = Objects.requireNonNull(starter, "starter");
        this.errors = Objects.requireNonNull(errors, "errors");
    }

    @Override
    public DeviceOpener forListener(EndPoint endpoint) {
        return UsbOpener.forListener(this::session, errors, ARRIVAL_WAIT);
    }

    @Override
    public DeviceOpener forClient(EndPoint endpoint) {
        return UsbOpener.forClient(this::session, errors);
    }

    /** The running backend, started on first use. */
    synchronized UsbOpener.Session session() throws ManComException {
        if (closed) {
            throw new ManComException(Reason.CLOSED, "the usb transport is closed");
        }
        if (session == null) {
            UsbBackend backend;
            try {
                backend = starter.start();
            } catch (UsbBackendException e) {
                throw errors.cannotStart(backendName, e);
            }
            DeviceWatcher watcher = new DeviceWatcher(backend, config.hotplug() == UsbConfig.Hotplug.AUTO, config.pollInterval());
            session = new UsbOpener.Session(backend, watcher, ConcurrentHashMap.newKeySet());
            log.debug("USB backend started: {}; device changes by {}", backend.describe(),
                    watcher.eventDriven() ? "hotplug events" : "polling every " + config.pollInterval().toMillis() + " ms");
        }
        return session;
    }

    /** The running session, if the backend was started; for tests. */
    synchronized UsbOpener.Session startedSession() {
        return session;
    }

    @Override
    public void close() {
        UsbOpener.Session s;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            s = session;
            session = null;
        }
        if (s == null) {
            return;
        }
        // The links' channels are being closed by the runtime too; whoever is first closes the
        // link, and the backend stops only once every link has let go of its device.
        Set<UsbLink> links = Set.copyOf(s.links());
        for (UsbLink link : links) {
            link.close();
            try {
                if (!link.awaitClosed(LINK_CLOSE_WAIT)) {
                    log.warn("USB device {} did not close in {}; stopping the backend anyway", link.device().describe(),
                            LINK_CLOSE_WAIT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        s.watcher().close();
        s.backend().close();
    }
}
