package io.mancom.usb.internal;

import io.mancom.usb.internal.UsbBackendException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.usb4java.Context;
import org.usb4java.Device;
import org.usb4java.DeviceDescriptor;
import org.usb4java.DeviceHandle;
import org.usb4java.DeviceList;
import org.usb4java.HotplugCallback;
import org.usb4java.HotplugCallbackHandle;
import org.usb4java.LibUsb;
import org.usb4java.Loader;
import org.usb4java.Version;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@link UsbBackend} on usb4java's low-level libusb API: one libusb context per backend, and
 * one daemon thread ({@code mancom-usb-events}) that runs libusb's event handling for it, which
 * completes asynchronous transfers and delivers hotplug events.
 *
 * <p>{@link #start()} loads usb4java's native library (unpacked from its jar on first use) and
 * initialises libusb; either can fail on a machine without USB (a container with no
 * {@code /dev/bus/usb}), which is an {@code INIT_FAILED} {@link UsbBackendException}.
 */
public final class LibUsbBackend implements UsbBackend {
    private static final Logger log = LoggerFactory.getLogger(LibUsbBackend.class);
    /** How long one round of event handling waits: bounds how long close() waits for the thread. */
    private static final long EVENT_WAIT_MICROS = 100_000;

    private final Context context;
    private final String description;
    /**
     * Whether the context's own device list follows the bus. usb4java's libusb (1.0.22, built
     * with udev) enumerates once at init and then learns of arrivals only from udevd's events; on
     * Linux without udevd (containers, initramfs, the USB lab's guest) none come, so the list stays
     * as it was at start. Then devices are listed and opened through a fresh context each time,
     * and the transport polls (no hotplug events).
     */
    private final boolean listFollowsBus = !System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")
            || Files.exists(Path.of("/run/udev/control"));
    private final Thread events;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile boolean running = true;

    private LibUsbBackend(Context context, String description) {
        this.context = context;
        this.description = description;
        this.events = new Thread(this::handleEvents, "mancom-usb-events");
        this.events.setDaemon(true);
    }

    /**
     * Loads libusb and starts a context with its event thread.
     *
     * @throws UsbBackendException {@code INIT_FAILED} if the native library does not load or
     *                             libusb cannot initialise
     */
    public static LibUsbBackend start() throws UsbBackendException {
        Context context = new Context();
        String version;
        try {
            Loader.load();
            int r = LibUsb.init(context);
            if (r != LibUsb.SUCCESS) {
                throw new UsbBackendException(Kind.INIT_FAILED, LibUsb.errorName(r), "libusb_init failed: " + LibUsb.strError(r));
            }
            Version v = LibUsb.getVersion();
            version = v == null ? "libusb" : "libusb " + v.major() + "." + v.minor() + "." + v.micro();
        } catch (LinkageError | RuntimeException e) {
            // The native part did not load: an unsupported platform, no writable temp folder, or
            // a previous failure (then the class itself failed to initialise).
            throw new UsbBackendException(Kind.INIT_FAILED, "NATIVE_LIBRARY",
                    "usb4java's native library could not be loaded (" + e + ")", e);
        }
        LibUsbBackend b = new LibUsbBackend(context, version + " (usb4java)");
        b.events.start();
        return b;
    }

    private void handleEvents() {
        while (running) {
            int r = LibUsb.handleEventsTimeoutCompleted(context, EVENT_WAIT_MICROS, null);
            if (r != LibUsb.SUCCESS && r != LibUsb.ERROR_INTERRUPTED && running) {
                log.warn("libusb event handling failed: {}; retrying", LibUsb.errorName(r));
            }
        }
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public List<UsbDeviceRef> devices() throws UsbBackendException {
        if (!listFollowsBus) {
            Context fresh = freshContext();
            try {
                return devices(fresh);
            } finally {
                LibUsb.exit(fresh);
            }
        }
        return devices(context);
    }

    private static Context freshContext() throws UsbBackendException {
        Context fresh = new Context();
        int r = LibUsb.init(fresh);
        if (r != LibUsb.SUCCESS) {
            throw error(r, "libusb_init failed");
        }
        return fresh;
    }

    private static List<UsbDeviceRef> devices(Context ctx) throws UsbBackendException {
        DeviceList list = new DeviceList();
        int r = LibUsb.getDeviceList(ctx, list);
        if (r < 0) {
            throw error(r, "cannot list USB devices");
        }
        try {
            List<UsbDeviceRef> out = new ArrayList<>();
            for (Device d : list) {
                ref(d).ifPresent(out::add);
            }
            return out;
        } finally {
            LibUsb.freeDeviceList(list, true);
        }
    }

    static Optional<UsbDeviceRef> ref(Device d) {
        DeviceDescriptor dd = new DeviceDescriptor();
        if (LibUsb.getDeviceDescriptor(d, dd) != LibUsb.SUCCESS) {
            return Optional.empty();
        }
        return Optional.of(new UsbDeviceRef(LibUsb.getBusNumber(d), LibUsb.getDeviceAddress(d),
                dd.idVendor() & 0xffff, dd.idProduct() & 0xffff));
    }

    @Override
    public DeviceStrings strings(UsbDeviceRef device) {
        try (UsbHandle h = open(device)) {
            return h.strings();
        } catch (UsbBackendException e) {
            return DeviceStrings.unreadable(e.kind() == Kind.ACCESS ? "no permission to open the device" : e.getMessage());
        }
    }

    @Override
    public UsbHandle open(UsbDeviceRef device) throws UsbBackendException {
        if (listFollowsBus) {
            return open(context, device, () -> { });
        }
        // A context of the handle's own, with its own event thread, ended when the handle closes.
        Context own = freshContext();
        boolean opened = false;
        try {
            OwnEvents events = new OwnEvents(own, device);
            UsbHandle h = open(own, device, events::finish);
            events.start();
            opened = true;
            return h;
        } finally {
            if (!opened) {
                LibUsb.exit(own);
            }
        }
    }

    private static UsbHandle open(Context ctx, UsbDeviceRef device, Runnable afterClose) throws UsbBackendException {
        DeviceList list = new DeviceList();
        int r = LibUsb.getDeviceList(ctx, list);
        if (r < 0) {
            throw error(r, "cannot list USB devices");
        }
        try {
            for (Device d : list) {
                if (LibUsb.getBusNumber(d) == device.bus() && LibUsb.getDeviceAddress(d) == device.address()
                        && ref(d).filter(device::equals).isPresent()) {
                    DeviceHandle handle = new DeviceHandle();
                    int o = LibUsb.open(d, handle);
                    if (o != LibUsb.SUCCESS) {
                        throw error(o, "cannot open USB device " + device.describe());
                    }
                    return new LibUsbHandle(device, handle, afterClose);
                }
            }
        } finally {
            // Unreferencing is safe: an open handle holds a reference of its own.
            LibUsb.freeDeviceList(list, true);
        }
        throw new UsbBackendException(Kind.NO_DEVICE, "LIBUSB_ERROR_NO_DEVICE", "USB device " + device.describe() + " is gone");
    }

    /** libusb's hotplug events, where they arrive: not on Linux without udevd (see {@link #listFollowsBus}). */
    @Override
    public boolean hotplugSupported() {
        return listFollowsBus && LibUsb.hasCapability(LibUsb.CAP_HAS_HOTPLUG);
    }

    /** The event thread of a context that one handle owns; the thread ends the context when stopped. */
    private static final class OwnEvents extends Thread {
        private final Context ctx;
        private volatile boolean running = true;

        OwnEvents(Context ctx, UsbDeviceRef device) {
            super("mancom-usb-events-" + device.bus() + "-" + device.address());
            this.ctx = ctx;
            setDaemon(true);
        }

        @Override
        public void run() {
            while (running) {
                int r = LibUsb.handleEventsTimeoutCompleted(ctx, EVENT_WAIT_MICROS, null);
                if (r != LibUsb.SUCCESS && r != LibUsb.ERROR_INTERRUPTED && running) {
                    log.warn("libusb event handling failed: {}; retrying", LibUsb.errorName(r));
                }
            }
            LibUsb.exit(ctx);
        }

        /** Ends the thread (within one round of event handling), which then ends the context. */
        void finish() {
            running = false;
        }
    }

    @Override
    public AutoCloseable watch(HotplugListener listener) throws UsbBackendException {
        if (!hotplugSupported()) {
            throw new UnsupportedOperationException("libusb has no hotplug support on this platform");
        }
        HotplugCallback callback = (ctx, device, event, userData) -> {
            // Only descriptors here: libusb forbids I/O on the device inside the hotplug callback.
            Optional<UsbDeviceRef> ref = ref(device);
            if (ref.isPresent()) {
                try {
                    if (event == LibUsb.HOTPLUG_EVENT_DEVICE_ARRIVED) {
                        listener.arrived(ref.get());
                    } else if (event == LibUsb.HOTPLUG_EVENT_DEVICE_LEFT) {
                        listener.left(ref.get());
                    }
                } catch (RuntimeException e) {
                    log.warn("USB hotplug listener failed", e);
                }
            }
            return 0; // stay registered
        };
        HotplugCallbackHandle handle = new HotplugCallbackHandle();
        int r = LibUsb.hotplugRegisterCallback(context, LibUsb.HOTPLUG_EVENT_DEVICE_ARRIVED | LibUsb.HOTPLUG_EVENT_DEVICE_LEFT,
                LibUsb.HOTPLUG_NO_FLAGS, LibUsb.HOTPLUG_MATCH_ANY, LibUsb.HOTPLUG_MATCH_ANY, LibUsb.HOTPLUG_MATCH_ANY,
                callback, null, handle);
        if (r != LibUsb.SUCCESS) {
            throw error(r, "cannot register for USB hotplug events");
        }
        AtomicBoolean done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true) && !closed.get()) {
                LibUsb.hotplugDeregisterCallback(context, handle);
            }
        };
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        running = false;
        try {
            events.join(10 * EVENT_WAIT_MICROS / 1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (events.isAlive()) {
            log.warn("the libusb event thread did not stop; not releasing the libusb context");
            return;
        }
        LibUsb.exit(context);
    }

    /** A libusb error code as a classified exception. */
    static UsbBackendException error(int code, String what) {
        Kind kind;
        if (code == LibUsb.ERROR_ACCESS) {
            kind = Kind.ACCESS;
        } else if (code == LibUsb.ERROR_BUSY) {
            kind = Kind.BUSY;
        } else if (code == LibUsb.ERROR_NO_DEVICE) {
            kind = Kind.NO_DEVICE;
        } else if (code == LibUsb.ERROR_NOT_FOUND) {
            kind = Kind.NOT_FOUND;
        } else if (code == LibUsb.ERROR_NOT_SUPPORTED) {
            kind = Kind.NOT_SUPPORTED;
        } else {
            kind = Kind.OTHER;
        }
        return new UsbBackendException(kind, LibUsb.errorName(code), what + ": " + LibUsb.strError(code));
    }
}
