package io.mancom.usb.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Arrivals and departures of USB devices, for every part of the transport that waits for a device
 * or watches an open one: from the backend's hotplug events where it has them (and the config
 * allows), otherwise by reading the device list every poll interval and comparing. Both paths go
 * through {@link UsbBackend} and deliver the same {@link HotplugListener} calls, so everything
 * above this class is the same for both.
 *
 * <h2>Lifecycle and threading</h2>
 * Thread-safe. The event source starts with the first {@link #watch} and stops on {@link #close()}.
 * Listeners are called one at a time, on the backend's event thread (hotplug) or on this watcher's
 * poller thread ({@code mancom-usb-poll}); they must not block. A poller only reports changes
 * after its first look, as libusb reports only changes after registration.
 */
public final class DeviceWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeviceWatcher.class);

    private final UsbBackend backend;
    private final boolean events;
    private final Duration pollInterval;
    private final List<HotplugListener> listeners = new CopyOnWriteArrayList<>();
    private final HotplugListener fanOut = new FanOut();
    private boolean started; // guarded by this
    private boolean closed; // guarded by this
    private AutoCloseable registration; // guarded by this
    private ScheduledExecutorService poller; // guarded by this
    private Set<UsbDeviceRef> seen; // poller thread only

    /**
     * @param useEvents whether to use the backend's hotplug events (only if it has them)
     */
    public DeviceWatcher(UsbBackend backend, boolean useEvents, Duration pollInterval) {
        this.backend = backend;
        this.events = useEvents && backend.hotplugSupported();
        this.pollInterval = pollInterval;
    }

    /** Whether changes come from the backend's hotplug events (true) or from polling (false). */
    public boolean eventDriven() {
        return events;
    }

    /**
     * Tells {@code listener} of every arrival and departure from now on, until the returned
     * registration is closed (which never throws).
     */
    public AutoCloseable watch(HotplugListener listener) throws UsbBackendException {
        listeners.add(listener);
        try {
            start();
        } catch (UsbBackendException | RuntimeException e) {
            listeners.remove(listener);
            throw e;
        }
        return () -> listeners.remove(listener);
    }

    private synchronized void start() throws UsbBackendException {
        if (started || closed) {
            return;
        }
        if (events) {
            registration = backend.watch(fanOut);
        } else {
            // The first look happens here, before watch() returns, so that a device arriving after
            // the caller's own enumeration is reported.
            seen = new HashSet<>(backend.devices());
            poller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "mancom-usb-poll");
                t.setDaemon(true);
                return t;
            });
            long ms = Math.max(1, pollInterval.toMillis());
            poller.scheduleWithFixedDelay(this::poll, ms, ms, TimeUnit.MILLISECONDS);
        }
        started = true;
    }

    private void poll() {
        Set<UsbDeviceRef> now;
        try {
            now = new HashSet<>(backend.devices());
        } catch (UsbBackendException | RuntimeException e) {
            log.debug("polling the USB device list failed: {}", e.getMessage());
            return;
        }
        for (UsbDeviceRef d : seen) {
            if (!now.contains(d)) {
                fanOut.left(d);
            }
        }
        for (UsbDeviceRef d : now) {
            if (!seen.contains(d)) {
                fanOut.arrived(d);
            }
        }
        seen = now;
    }

    /** Stops the event source. Idempotent. */
    @Override
    public void close() {
        AutoCloseable r;
        ScheduledExecutorService p;
        synchronized (this) {
            closed = true;
            r = registration;
            p = poller;
            registration = null;
            poller = null;
        }
        listeners.clear();
        if (p != null) {
            p.shutdownNow();
        }
        if (r != null) {
            try {
                r.close();
            } catch (Exception e) {
                log.debug("deregistering USB hotplug events failed", e);
            }
        }
    }

    private final class FanOut implements HotplugListener {
        @Override
        public void arrived(UsbDeviceRef device) {
            log.debug("USB device arrived: {}", device.describe());
            for (HotplugListener l : listeners) {
                try {
                    l.arrived(device);
                } catch (RuntimeException e) {
                    log.warn("USB arrival listener failed", e);
                }
            }
        }

        @Override
        public void left(UsbDeviceRef device) {
            log.debug("USB device left: {}", device.describe());
            for (HotplugListener l : listeners) {
                try {
                    l.left(device);
                } catch (RuntimeException e) {
                    log.warn("USB departure listener failed", e);
                }
            }
        }
    }
}
