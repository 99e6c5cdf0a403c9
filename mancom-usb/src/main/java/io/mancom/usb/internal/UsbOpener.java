package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.UsbAddress;
import io.mancom.core.spi.device.DeviceOpener;
import io.mancom.usb.internal.UsbBackendException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Opens {@code usb://} endpoints: finds the matching device, opens it, checks its serial number,
 * resolves the bulk endpoints, claims the interface (detaching a kernel driver) and starts a
 * {@link UsbLink} on it.
 *
 * <h2>Waiting for a device</h2>
 * An opener made {@linkplain #forListener for a listener} waits for the device to be plugged in:
 * after an open failed because no matching device was there, the next open registers for
 * arrivals, looks once more and then waits (up to {@code maxWait}) for a matching device to
 * arrive, and opens it at once when it does. The first failure is still reported straight away, so
 * that {@code awaitReady} can say which devices are present. A {@linkplain #forClient client}
 * opener never waits. {@link #close()} ends a wait: the device listener calls it when it stops.
 * {@link UsbOpeners} makes both kinds for mancom-core's device transport.
 *
 * <h2>Matching</h2>
 * Vendor and product id, then {@code bus=} and {@code address=} from the enumeration; a
 * {@code serial=} is read from each candidate after opening it. The first candidate that opens and
 * matches wins.
 *
 * <h2>Threading</h2>
 * {@link #open} is called on blocking threads, one call at a time per opener (the device listener
 * never overlaps its attempts); {@link #close()} from any thread.
 */
public final class UsbOpener implements DeviceOpener {
    private static final Logger log = LoggerFactory.getLogger(UsbOpener.class);

    /** Where the opener gets the running backend from. */
    @FunctionalInterface
    public interface Sessions {
        /**
         * The started backend and its watcher.
         *
         * @throws ManComException if the backend cannot start ({@link UsbErrors#cannotStart})
         */
        Session session() throws ManComException;
    }

    /**
     * A started backend, the watcher of its devices, and the links open on it (which the
     * transport closes before it stops the backend).
     */
    public record Session(UsbBackend backend, DeviceWatcher watcher, Set<UsbLink> links) {
    }

    private final Sessions sessions;
    private final UsbErrors errors;
    private final boolean waitForArrival;
    private final Duration maxWait;
    private final Object waitLock = new Object();
    private volatile boolean closed;
    private boolean lastNoDevice; // open() only

    private UsbOpener(Sessions sessions, UsbErrors errors, boolean waitForArrival, Duration maxWait) {
        this.sessions = sessions;
        this.errors = errors;
        this.waitForArrival = waitForArrival;
        this.maxWait = maxWait;
    }

    /** An opener that waits for a missing device to arrive, for one listening service. */
    public static UsbOpener forListener(Sessions sessions, UsbErrors errors, Duration maxWait) {
        return new UsbOpener(sessions, errors, true, maxWait);
    }

    /** An opener that fails at once when the device is not there. */
    public static UsbOpener forClient(Sessions sessions, UsbErrors errors) {
        return new UsbOpener(sessions, errors, false, Duration.ZERO);
    }

    /** Ends a wait for a device; later opens fail with {@code CLOSED}. Idempotent. */
    @Override
    public void close() {
        closed = true;
        synchronized (waitLock) {
            waitLock.notifyAll();
        }
    }

    @Override
    public UsbLink open(EndPoint endpoint) throws ManComException {
        if (!(endpoint.address() instanceof UsbAddress a)) {
            throw new IllegalArgumentException("not a usb endpoint: " + endpoint);
        }
        Optional<FtdiProfile> profile = profile(endpoint, a);
        if (closed) {
            throw new ManComException(Reason.CLOSED, "the listener of " + endpoint + " was closed");
        }
        Session s = sessions.session();
        Arrival arrival = null;
        if (waitForArrival && lastNoDevice) {
            // Registered before looking, so that a device arriving between the look and the wait
            // is not missed.
            arrival = new Arrival(a);
            try {
                arrival.registration = s.watcher().watch(arrival);
            } catch (UsbBackendException e) {
                log.debug("cannot watch for USB arrivals; retrying by polling: {}", e.getMessage());
                arrival = null;
            }
        }
        try {
            List<UsbDeviceRef> present = devices(s);
            List<UsbDeviceRef> matches = matching(present, a);
            if (matches.isEmpty() && arrival != null) {
                if (arrival.await(maxWait)) {
                    present = devices(s);
                    matches = matching(present, a);
                }
                if (closed) {
                    throw new ManComException(Reason.CLOSED, "the listener of " + endpoint + " was closed");
                }
            }
            return open(s, endpoint, a, present, matches, profile);
        } finally {
            if (arrival != null) {
                arrival.close();
            }
        }
    }

    private UsbLink open(Session s, EndPoint endpoint, UsbAddress a, List<UsbDeviceRef> present,
                         List<UsbDeviceRef> matches, Optional<FtdiProfile> profile) throws ManComException {
        ManComException failure = null;
        List<String> serialsSeen = new ArrayList<>();
        for (UsbDeviceRef d : matches) {
            UsbHandle h;
            try {
                h = s.backend().open(d);
            } catch (UsbBackendException e) {
                if (e.kind() == Kind.NO_DEVICE) {
                    continue; // left since the enumeration
                }
                if (failure == null) {
                    failure = e.kind() == Kind.ACCESS ? errors.permissionDenied(d, e) : errors.other("opening", d, e);
                }
                continue;
            }
            if (a.serial().isPresent()) {
                Optional<String> serial = h.strings().serialNumber();
                if (!serial.equals(a.serial())) {
                    serialsSeen.add(serial.orElse("(none)"));
                    h.close();
                    continue;
                }
            }
            UsbLink link;
            try {
                link = link(s, h, d, endpoint, a, profile);
            } catch (ManComException | RuntimeException e) {
                h.close();
                lastNoDevice = false;
                throw e;
            }
            lastNoDevice = false;
            return link;
        }
        if (failure != null) {
            lastNoDevice = false;
            throw failure;
        }
        lastNoDevice = true;
        throw errors.noDevice(a, present, serialsSeen);
    }

    private UsbLink link(Session s, UsbHandle h, UsbDeviceRef d, EndPoint endpoint, UsbAddress a,
                         Optional<FtdiProfile> profile) throws ManComException {
        int iface = a.interfaceNumber();
        List<UsbEndpoint> eps;
        try {
            eps = h.endpoints(iface);
        } catch (UsbBackendException e) {
            if (e.kind() == Kind.NOT_FOUND) {
                throw new ManComException(Reason.CONFIG, "interface=" + iface + ": USB device " + d.describe()
                        + " has no interface " + iface + "; its interfaces: " + interfaces(h) + " (in " + endpoint + ")");
            }
            throw errors.other("reading the descriptors", d, e);
        }
        UsbEndpoint in = pick(eps, a.inEndpoint(), true, "in", d, iface, endpoint);
        UsbEndpoint out = pick(eps, a.outEndpoint(), false, "out", d, iface, endpoint);
        try {
            h.claim(iface);
        } catch (UsbBackendException e) {
            throw switch (e.kind()) {
                case BUSY -> errors.busy(d, iface, e);
                case ACCESS -> errors.permissionDenied(d, e);
                case NOT_FOUND -> new ManComException(Reason.CONFIG, "interface=" + iface + ": USB device " + d.describe()
                        + " has no interface " + iface + "; its interfaces: " + interfaces(h), e);
                default -> errors.other("claiming interface " + iface, d, e);
            };
        }
        if (profile.isPresent()) {
            try {
                profile.get().configure(h, iface, endpoint, errors);
            } catch (ManComException e) {
                h.release(iface);
                throw e;
            }
        }
        UsbLink link = new UsbLink(h, iface, in, out, a.timeout(), endpoint, resolved(a, d, in, out), errors);
        if (profile.isPresent()) {
            link.stripInPacketHeaders(FtdiProfile.STATUS_BYTES);
        }
        try {
            AutoCloseable departures = s.watcher().watch(new HotplugListener() {
                @Override
                public void arrived(UsbDeviceRef device) {
                }

                @Override
                public void left(UsbDeviceRef device) {
                    if (device.equals(d)) {
                        link.deviceGone();
                    }
                }
            });
            link.onClose(() -> {
                try {
                    departures.close();
                } catch (Exception e) {
                    log.debug("ending the departure watch of {}", d.describe(), e);
                }
            });
        } catch (UsbBackendException e) {
            // Transfers report "no device" too; the watch only makes it quicker.
            log.debug("cannot watch {} for departure: {}", d.describe(), e.getMessage());
        }
        s.links().add(link);
        link.onClose(() -> s.links().remove(link));
        try {
            link.start();
        } catch (ManComException | RuntimeException e) {
            link.close();
            throw e;
        }
        log.debug("opened {} as {}: IN {} ({} x {} bytes), OUT {}", endpoint, d.describe(), in.describe(),
                UsbLink.IN_TRANSFERS, link.inTransferSize(), out.describe());
        return link;
    }

    /** The endpoint as opened: the device's bus and address and the endpoints in use. */
    static EndPoint resolved(UsbAddress a, UsbDeviceRef d, UsbEndpoint in, UsbEndpoint out) {
        return EndPoint.of(new UsbAddress(a.vendorId(), a.productId(), a.serial(), OptionalInt.of(d.bus()),
                OptionalInt.of(d.address()), a.interfaceNumber(), OptionalInt.of(in.address()),
                OptionalInt.of(out.address()), a.timeout(), a.profile(), a.options()));
    }

    private static UsbEndpoint pick(List<UsbEndpoint> eps, OptionalInt wanted, boolean wantIn, String key,
                                    UsbDeviceRef d, int iface, EndPoint endpoint) throws ManComException {
        for (UsbEndpoint e : eps) {
            boolean match = wanted.isPresent() ? e.address() == wanted.getAsInt() : e.isIn() == wantIn;
            if (match && e.type() == UsbEndpoint.Type.BULK && e.isIn() == wantIn) {
                return e;
            }
        }
        String list = eps.isEmpty() ? "none" : eps.stream().map(UsbEndpoint::describe).collect(Collectors.joining(", "));
        String dir = wantIn ? "IN" : "OUT";
        if (wanted.isPresent()) {
            throw new ManComException(Reason.CONFIG, String.format(Locale.ROOT,
                    "%s=0x%02x: interface %d of USB device %s has no bulk %s endpoint 0x%02x; its endpoints: %s (in %s)",
                    key, wanted.getAsInt(), iface, d.describe(), dir, wanted.getAsInt(), list, endpoint));
        }
        throw new ManComException(Reason.CONFIG, String.format(Locale.ROOT,
                "interface=%d: interface %d of USB device %s has no bulk %s endpoint; its endpoints: %s. Choose the"
                        + " interface with the bulk pair (interface=N) (in %s)", iface, iface, d.describe(), dir, list, endpoint));
    }

    private static String interfaces(UsbHandle h) {
        try {
            return h.interfaces().stream().map(String::valueOf).collect(Collectors.joining(", "));
        } catch (UsbBackendException e) {
            return "(unreadable: " + e.code() + ")";
        }
    }

    private List<UsbDeviceRef> devices(Session s) throws ManComException {
        try {
            return s.backend().devices();
        } catch (UsbBackendException e) {
            throw new ManComException(Reason.IO, "cannot list USB devices (" + s.backend().describe() + "): " + e.code()
                    + ": " + e.getMessage(), e);
        }
    }

    /** The devices that match everything the enumeration shows: ids, bus, address. */
    static List<UsbDeviceRef> matching(List<UsbDeviceRef> present, UsbAddress a) {
        List<UsbDeviceRef> out = new ArrayList<>();
        for (UsbDeviceRef d : present) {
            if (d.vendorId() == a.vendorId() && d.productId() == a.productId()
                    && (a.bus().isEmpty() || a.bus().getAsInt() == d.bus())
                    && (a.deviceAddress().isEmpty() || a.deviceAddress().getAsInt() == d.address())) {
                out.add(d);
            }
        }
        return out;
    }

    /**
     * The endpoint's device profile: {@code ftdi} ({@link FtdiProfile}), or none. An unknown
     * profile or a bad option is a config error, which no retry fixes.
     */
    static Optional<FtdiProfile> profile(EndPoint endpoint, UsbAddress a) throws ManComException {
        if (a.profile().isEmpty()) {
            return Optional.empty();
        }
        String p = a.profile().get();
        if (p.equalsIgnoreCase("ftdi")) {
            return Optional.of(FtdiProfile.of(endpoint, a));
        }
        throw new ManComException(Reason.CONFIG, "profile=" + p + " is not supported in " + endpoint
                + ": the USB transport has the profile ftdi (FTDI USB-UART chips); without profile= it serves a raw pair"
                + " of bulk endpoints");
    }

    /** A wait for a matching device to arrive. */
    private final class Arrival implements HotplugListener, AutoCloseable {
        private final UsbAddress wanted;
        private boolean arrived; // guarded by waitLock
        AutoCloseable registration;

        Arrival(UsbAddress wanted) {
            this.wanted = wanted;
        }

        @Override
        public void arrived(UsbDeviceRef device) {
            if (!matching(List.of(device), wanted).isEmpty()) {
                synchronized (waitLock) {
                    arrived = true;
                    waitLock.notifyAll();
                }
            }
        }

        @Override
        public void left(UsbDeviceRef device) {
        }

        /** Whether a matching device arrived (false: the wait ended or the opener was closed). */
        boolean await(Duration max) {
            long deadline = System.nanoTime() + max.toNanos();
            synchronized (waitLock) {
                while (!arrived && !closed) {
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        return false;
                    }
                    try {
                        waitLock.wait(left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
                return arrived;
            }
        }

        @Override
        public void close() {
            if (registration != null) {
                try {
                    registration.close();
                } catch (Exception e) {
                    log.debug("ending an arrival watch", e);
                }
            }
        }
    }
}
