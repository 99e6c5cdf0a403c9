package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.TransportType;
import io.mancom.core.ChannelSink;
import io.mancom.core.NettyRuntime;
import io.mancom.core.StatusReporting;
import io.mancom.core.device.DeviceChannel;
import io.mancom.core.device.DeviceConnector;
import io.mancom.core.device.DeviceListener;
import io.mancom.spi.LinkSink;
import io.mancom.spi.Listener;
import io.mancom.spi.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code usb} {@link Transport}: mancom-core's device listener and connector with a
 * {@link UsbOpener}, plus the backend they share.
 *
 * <h2>Lifecycle</h2>
 * The backend (a libusb context) starts with the first open, not with the transport, so a runtime
 * that serves no USB endpoint never loads libusb; if it cannot start, that open fails with
 * {@link UsbErrors#cannotStart} and the next one tries again. {@link #close()} stops the
 * listeners, closes the links still open (the backend must outlive them), then stops the watcher
 * and the backend.
 *
 * <p>Thread-safe.
 */
public final class UsbTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(UsbTransport.class);

    /**
     * 16 KiB chunks (one IN transfer), 4 of them read ahead by the channel, 64 KiB write batches
     * (split into 16 KiB OUT transfers by the link).
     */
    static final DeviceChannel.Options OPTIONS = new DeviceChannel.Options(UsbLink.TRANSFER_BYTES, 4, 64 * 1024);
    /** The longest a listener's open waits for an arrival before it looks again by itself. */
    static final Duration ARRIVAL_WAIT = Duration.ofSeconds(30);
    private static final Duration LINK_CLOSE_WAIT = Duration.ofSeconds(3);

    /** Starts the backend; a {@link UsbBackendFactory} with its argument. */
    @FunctionalInterface
    public interface BackendStarter {
        UsbBackend start() throws UsbBackendException;
    }

    private final NettyRuntime runtime;
    private final UsbConfig config;
    private final BackendStarter starter;
    private final String backendName;
    private final UsbErrors errors;
    private final List<UsbListener> listeners = new ArrayList<>(); // guarded by this
    private UsbOpener.Session session; // guarded by this
    private boolean closed; // guarded by this

    public UsbTransport(NettyRuntime runtime, UsbConfig config, String backendName, BackendStarter starter, UsbErrors errors) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
        this.config = Objects.requireNonNull(config, "config");
        this.backendName = Objects.requireNonNull(backendName, "backendName");
        this.starter = Objects.requireNonNull(starter, "starter");
        this.errors = Objects.requireNonNull(errors, "errors");
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
    public Listener listen(EndPoint endpoint, LinkSink sink) {
        check(endpoint);
        ChannelSink channels = channelSink(sink);
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the usb transport is closed");
            }
            UsbOpener opener = UsbOpener.forListener(this::session, errors, ARRIVAL_WAIT);
            UsbListener l = new UsbListener(DeviceListener.start(endpoint, opener, channels, runtime, OPTIONS), opener);
            listeners.add(l);
            return l;
        }
    }

    @Override
    public CompletionStage<Void> connect(EndPoint endpoint, LinkSink sink, Duration timeout) {
        check(endpoint);
        return DeviceConnector.connect(endpoint, UsbOpener.forClient(this::session, errors), channelSink(sink), runtime,
                OPTIONS, timeout);
    }

    @Override
    public void close() {
        List<UsbListener> copy;
        UsbOpener.Session s;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            copy = new ArrayList<>(listeners);
            listeners.clear();
            s = session;
            session = null;
        }
        copy.forEach(UsbListener::close);
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

    private static void check(EndPoint endpoint) {
        if (endpoint.type() != TransportType.USB) {
            throw new IllegalArgumentException("not a usb endpoint: " + endpoint);
        }
    }

    private static ChannelSink channelSink(LinkSink sink) {
        if (sink instanceof ChannelSink c) {
            return c;
        }
        throw new IllegalArgumentException("the usb transport needs the ManCom core runtime's ChannelSink, got "
                + sink.getClass().getName());
    }

    /** The device listener of one service, whose close also ends its opener's wait for the device. */
    static final class UsbListener implements Listener, StatusReporting {
        private final DeviceListener delegate;
        private final UsbOpener opener;

        UsbListener(DeviceListener delegate, UsbOpener opener) {
            this.delegate = delegate;
            this.opener = opener;
        }

        @Override
        public CompletionStage<EndPoint> ready() {
            return delegate.ready();
        }

        @Override
        public String status() {
            return delegate.status();
        }

        /** The listener's device channel while the device is open; for tests. */
        DeviceListener delegate() {
            return delegate;
        }

        @Override
        public void close() {
            delegate.close();
            opener.close();
        }
    }
}
