package io.mancom.usb.internal;

import io.mancom.usb.internal.UsbBackendException.Kind;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * An in-memory USB bus for tests: devices that behave like bulk devices (echo, or a pipe to the
 * test), plugged in and out by the test, seen through {@link UsbBackend} sessions like libusb
 * contexts.
 *
 * <h2>Packets</h2>
 * The host's OUT transfers reach the device as packets of at most {@code maxPacket} bytes; a
 * transfer that ends with a short packet (or a zero-length one) ends a message. An echo device
 * sends each whole message back, ending it with a short packet, or with a zero-length packet when
 * its length is a multiple of {@code maxPacket}. So a host that does not send a zero-length packet
 * after a write of whole packets gets no echo: the device waits for the rest of the message. An IN
 * transfer completes when it is full or when the message it is filling ends (short), as on a real
 * bus.
 *
 * <h2>Finding a bus from config</h2>
 * {@link #backendConfig()} is the HOCON that makes a runtime use this bus ({@code mancom.usb.backend
 * = "memory:ID"}); {@link Factory} finds the bus by that id in a registry that {@link #close()}
 * leaves again, so tests never see each other's buses.
 *
 * <h2>Threading</h2>
 * Transfer callbacks and hotplug events run on each session's own event thread, never inside the
 * call that caused them.
 */
final class InMemoryUsb implements AutoCloseable {
    private static final Map<String, InMemoryUsb> BUSES = new ConcurrentHashMap<>();

    final String id = UUID.randomUUID().toString();
    final boolean hotplug;
    volatile boolean failStart;
    private final List<Session> sessions = new CopyOnWriteArrayList<>();
    private final List<Device> plugged = new CopyOnWriteArrayList<>();
    private int nextAddress = 2;

    private InMemoryUsb(boolean hotplug) {
        this.hotplug = hotplug;
    }

    /** A bus with hotplug events (like libusb on Linux) or without (the transport polls). */
    static InMemoryUsb create(boolean hotplug) {
        InMemoryUsb bus = new InMemoryUsb(hotplug);
        BUSES.put(bus.id, bus);
        return bus;
    }

    /** The HOCON line that selects this bus. */
    String backendConfig() {
        return "mancom.usb.backend = \"memory:" + id + "\"\n";
    }

    @Override
    public void close() {
        BUSES.remove(id);
        sessions.forEach(Session::close);
    }

    /** Starts a backend session on this bus, as a libusb context would be. */
    Session session() throws UsbBackendException {
        if (failStart) {
            throw new UsbBackendException(Kind.INIT_FAILED, "LIBUSB_ERROR_OTHER", "libusb_init failed: Other error");
        }
        Session s = new Session();
        sessions.add(s);
        return s;
    }

    int sessionCount() {
        return (int) sessions.stream().filter(s -> !s.closed).count();
    }

    /** Plugs {@code d} in at the next address on bus 1 and tells every session. */
    synchronized Device plug(Device d) {
        d.reset();
        d.ref = new UsbDeviceRef(1, nextAddress++, d.vendorId, d.productId);
        d.gone = false;
        plugged.add(d);
        for (Session s : sessions) {
            s.event(l -> l.arrived(d.ref));
        }
        return d;
    }

    /** Unplugs {@code d}: its transfers end with NO_DEVICE, its handles die, sessions are told. */
    synchronized void unplug(Device d) {
        plugged.remove(d);
        d.unplugged();
        for (Session s : sessions) {
            s.event(l -> l.left(d.ref));
        }
    }

    private Optional<Device> find(UsbDeviceRef ref) {
        return plugged.stream().filter(d -> d.ref.equals(ref)).findFirst();
    }

    /** The backend: one "context" on the bus, with its own event thread. */
    final class Session implements UsbBackend {
        private final ExecutorService events = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "memory-usb-events");
            t.setDaemon(true);
            return t;
        });
        private final List<HotplugListener> listeners = new CopyOnWriteArrayList<>();
        volatile boolean closed;

        void run(Runnable r) {
            try {
                events.execute(r);
            } catch (RejectedExecutionException e) {
                // closed: a real context delivers nothing after libusb_exit either
            }
        }

        void event(Consumer<HotplugListener> e) {
            run(() -> listeners.forEach(e));
        }

        @Override
        public String describe() {
            return "in-memory USB bus";
        }

        @Override
        public List<UsbDeviceRef> devices() {
            return plugged.stream().map(d -> d.ref).toList();
        }

        @Override
        public DeviceStrings strings(UsbDeviceRef device) {
            Device d = find(device).orElse(null);
            if (d == null) {
                return DeviceStrings.unreadable("gone");
            }
            return d.denyAccess ? DeviceStrings.unreadable("no permission to open the device") : d.strings();
        }

        @Override
        public UsbHandle open(UsbDeviceRef device) throws UsbBackendException {
            Device d = find(device).orElseThrow(() -> new UsbBackendException(Kind.NO_DEVICE, "LIBUSB_ERROR_NO_DEVICE", "gone"));
            if (d.denyAccess) {
                throw new UsbBackendException(Kind.ACCESS, "LIBUSB_ERROR_ACCESS", "Access denied (insufficient permissions)");
            }
            d.openHandles.incrementAndGet();
            return d.new Handle(this);
        }

        @Override
        public boolean hotplugSupported() {
            return hotplug;
        }

        @Override
        public AutoCloseable watch(HotplugListener listener) {
            if (!hotplug) {
                throw new UnsupportedOperationException("no hotplug on this bus");
            }
            listeners.add(listener);
            return () -> listeners.remove(listener);
        }

        @Override
        public void close() {
            closed = true;
            events.shutdown();
        }
    }

    /** A bulk device: interface 0 with an interrupt IN 0x83, bulk IN 0x81 and bulk OUT 0x02. */
    static final class Device {
        final int vendorId;
        final int productId;
        final String serial;
        final int maxPacket;
        volatile boolean denyAccess;
        volatile boolean claimedElsewhere;
        volatile boolean kernelDriverBound;
        volatile boolean driverDetachable = true;
        /** When set, OUT data goes here instead of being echoed (a pipe to the test). */
        volatile Consumer<byte[]> receiver;

        private final Object lock = new Object();
        // Guarded by lock.
        private final ArrayDeque<byte[]> inMessages = new ArrayDeque<>();
        private final ArrayDeque<Pending> pendingIn = new ArrayDeque<>();
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private int stallIn;
        private boolean holdOut;
        private final List<Held> heldOut = new ArrayList<>();

        /** An OUT transfer waiting while {@link #holdOut} is on, and how to take it then. */
        private record Held(Pending transfer, Runnable take) {
        }
        private int stallOut;
        private boolean inHalted;
        private boolean outHalted;
        private boolean claimed;
        private boolean detached;
        // Statistics for tests, guarded by lock.
        int maxInFlight;
        int badInLengths;
        int zlpsReceived;
        int haltsCleared;
        int claims;
        int releases;
        int detaches;
        int reattaches;
        final List<Integer> outTransferSizes = new ArrayList<>();
        final List<ControlRequest> controlRequests = new ArrayList<>();
        /** When set, control requests fail as a device that does not support them (a stall). */
        boolean controlStall;
        final java.util.concurrent.atomic.AtomicInteger openHandles = new java.util.concurrent.atomic.AtomicInteger();

        volatile UsbDeviceRef ref;
        volatile boolean gone;

        Device(int vendorId, int productId, String serial, int maxPacket) {
            this.vendorId = vendorId;
            this.productId = productId;
            this.serial = serial;
            this.maxPacket = maxPacket;
        }

        DeviceStrings strings() {
            return new DeviceStrings(Optional.of("ManCom Test"), Optional.of("Bulk Echo"), Optional.ofNullable(serial), Optional.empty());
        }

        List<UsbEndpoint> endpoints() {
            return List.of(new UsbEndpoint(0x83, UsbEndpoint.Type.INTERRUPT, 8),
                    new UsbEndpoint(0x81, UsbEndpoint.Type.BULK, maxPacket),
                    new UsbEndpoint(0x02, UsbEndpoint.Type.BULK, maxPacket));
        }

        /**
         * While on, OUT transfers wait (the device NAKs, as one whose buffers are full): a host
         * that keeps writing is held back. Off again takes what waited, in order.
         */
        void holdOut(boolean on) {
            List<Held> release;
            synchronized (lock) {
                holdOut = on;
                if (on) {
                    return;
                }
                release = new ArrayList<>(heldOut);
                heldOut.clear();
            }
            release.forEach(h -> h.take().run());
        }

        /** Stalls the next {@code n} IN transfers' endpoint (each clear lets one more stall happen). */
        void stallIn(int n) {
            synchronized (lock) {
                stallIn = n;
            }
        }

        void stallOut(int n) {
            synchronized (lock) {
                stallOut = n;
            }
        }

        int count(java.util.function.ToIntFunction<Device> f) {
            synchronized (lock) {
                return f.applyAsInt(this);
            }
        }

        List<ControlRequest> controlRequests() {
            synchronized (lock) {
                return List.copyOf(controlRequests);
            }
        }

        List<Integer> outSizes() {
            synchronized (lock) {
                return List.copyOf(outTransferSizes);
            }
        }

        void clearOutSizes() {
            synchronized (lock) {
                outTransferSizes.clear();
            }
        }

        int inFlight() {
            synchronized (lock) {
                return pendingIn.size();
            }
        }

        boolean claimed() {
            synchronized (lock) {
                return claimed;
            }
        }

        /** The device sends {@code data} as one message (ended by a short or zero-length packet). */
        void send(byte[] data) {
            synchronized (lock) {
                inMessages.add(data);
                if (data.length > 0 && data.length % maxPacket == 0) {
                    inMessages.add(new byte[0]);
                }
                pump();
            }
        }

        /** A fresh plug: nothing buffered, no halts, nobody claims it. */
        void reset() {
            synchronized (lock) {
                inMessages.clear();
                partial.reset();
                readOfHead = 0;
                inHalted = false;
                outHalted = false;
                claimed = false;
            }
        }

        private void unplugged() {
            List<Pending> dead;
            synchronized (lock) {
                gone = true;
                dead = new ArrayList<>(pendingIn);
                pendingIn.clear();
                heldOut.forEach(h -> dead.add(h.transfer()));
                heldOut.clear();
                holdOut = false;
                claimed = false;
            }
            for (Pending p : dead) {
                p.complete(TransferStatus.NO_DEVICE);
            }
        }

        // Holds lock.
        private void pump() {
            while (!pendingIn.isEmpty() && !inMessages.isEmpty()) {
                Pending p = pendingIn.peek();
                byte[] msg = inMessages.peek();
                int n = Math.min(p.length - p.filled, msg.length - p.msgOffset(msg));
                int from = p.msgOffset(msg);
                p.buffer.put(p.buffer.position() + p.filled, msg, from, n);
                p.filled += n;
                boolean msgDone = from + n == msg.length;
                if (msgDone) {
                    inMessages.poll();
                    readOfHead = 0;
                } else {
                    readOfHead = from + n;
                }
                if (msgDone || p.filled == p.length) {
                    pendingIn.poll();
                    p.complete(TransferStatus.COMPLETED);
                }
            }
        }

        // How much of the head message earlier transfers took; guarded by lock.
        private int readOfHead;

        private final class Pending implements UsbTransfer {
            final ByteBuffer buffer;
            final int length;
            final TransferCallback callback;
            final InMemoryUsb.Session session;
            int filled;
            boolean done;

            Pending(ByteBuffer buffer, TransferCallback callback, InMemoryUsb.Session session) {
                this.buffer = buffer;
                this.length = buffer.remaining();
                this.callback = callback;
                this.session = session;
            }

            int msgOffset(byte[] msg) {
                return readOfHead;
            }

            void complete(TransferStatus status) {
                int n = filled;
                synchronized (lock) {
                    if (done) {
                        return;
                    }
                    done = true;
                }
                session.run(() -> callback.done(status, n));
            }

            @Override
            public void cancel() {
                boolean removed;
                synchronized (lock) {
                    removed = pendingIn.remove(this);
                }
                if (removed) {
                    complete(TransferStatus.CANCELLED);
                }
            }
        }

        final class Handle implements UsbHandle {
            private final InMemoryUsb.Session session;
            private final UsbDeviceRef openedAs = ref;
            private boolean closed;

            Handle(InMemoryUsb.Session session) {
                this.session = session;
            }

            private void alive() throws UsbBackendException {
                if (gone || !openedAs.equals(ref)) {
                    throw new UsbBackendException(Kind.NO_DEVICE, "LIBUSB_ERROR_NO_DEVICE", "No such device (it may have been disconnected)");
                }
            }

            @Override
            public UsbDeviceRef device() {
                return openedAs;
            }

            @Override
            public DeviceStrings strings() {
                return Device.this.strings();
            }

            @Override
            public List<Integer> interfaces() {
                return List.of(0);
            }

            @Override
            public List<UsbEndpoint> endpoints(int iface) throws UsbBackendException {
                if (iface != 0) {
                    throw new UsbBackendException(Kind.NOT_FOUND, "LIBUSB_ERROR_NOT_FOUND", "no interface " + iface);
                }
                return Device.this.endpoints();
            }

            @Override
            public void claim(int iface) throws UsbBackendException {
                alive();
                if (iface != 0) {
                    throw new UsbBackendException(Kind.NOT_FOUND, "LIBUSB_ERROR_NOT_FOUND", "no interface " + iface);
                }
                synchronized (lock) {
                    if (claimedElsewhere || claimed) {
                        throw new UsbBackendException(Kind.BUSY, "LIBUSB_ERROR_BUSY", "Resource busy");
                    }
                    if (kernelDriverBound) {
                        if (!driverDetachable) {
                            throw new UsbBackendException(Kind.BUSY, "LIBUSB_ERROR_BUSY",
                                    "a kernel driver is bound to interface 0 and could not be detached");
                        }
                        kernelDriverBound = false;
                        detached = true;
                        detaches++;
                    }
                    claimed = true;
                    claims++;
                }
            }

            @Override
            public void release(int iface) {
                synchronized (lock) {
                    if (claimed) {
                        claimed = false;
                        releases++;
                    }
                    if (detached) {
                        detached = false;
                        kernelDriverBound = true;
                        reattaches++;
                    }
                }
            }

            @Override
            public UsbTransfer submit(int endpoint, ByteBuffer buffer, long timeoutMillis, TransferCallback callback)
                    throws UsbBackendException {
                if (!buffer.isDirect()) {
                    throw new IllegalArgumentException("not direct");
                }
                alive();
                Pending p = new Pending(buffer, callback, session);
                if ((endpoint & 0x80) != 0) {
                    synchronized (lock) {
                        if (p.length % maxPacket != 0) {
                            badInLengths++;
                        }
                        if (stallIn > 0 && !inHalted) {
                            stallIn--;
                            inHalted = true;
                        }
                        if (inHalted) {
                            p.complete(TransferStatus.STALL);
                            return p;
                        }
                        pendingIn.add(p);
                        maxInFlight = Math.max(maxInFlight, pendingIn.size());
                        pump();
                    }
                    return p;
                }
                byte[] data = new byte[p.length];
                buffer.get(buffer.position(), data);
                synchronized (lock) {
                    if (holdOut) {
                        // NAKed, as a device with full buffers does: the transfer waits.
                        heldOut.add(new Held(p, () -> out(p, data)));
                        return p;
                    }
                }
                return out(p, data);
            }

            private UsbTransfer out(Pending p, byte[] data) {
                byte[] message = null;
                synchronized (lock) {
                    if (stallOut > 0 && !outHalted) {
                        stallOut--;
                        outHalted = true;
                    }
                    if (outHalted) {
                        p.complete(TransferStatus.STALL);
                        return p;
                    }
                    outTransferSizes.add(data.length);
                    if (data.length == 0) {
                        zlpsReceived++;
                    }
                    p.filled = data.length;
                    if (receiver == null) {
                        partial.write(data, 0, data.length);
                        if (data.length % maxPacket != 0 || data.length == 0) {
                            message = partial.toByteArray();
                            partial.reset();
                        }
                    }
                }
                Consumer<byte[]> r = receiver;
                if (r != null) {
                    if (data.length > 0) {
                        r.accept(data);
                    }
                } else if (message != null && message.length > 0) {
                    send(message);
                }
                p.complete(TransferStatus.COMPLETED);
                return p;
            }

            @Override
            public int control(int requestType, int request, int value, int index, ByteBuffer data, long timeoutMillis)
                    throws UsbBackendException {
                if (!data.isDirect()) {
                    throw new IllegalArgumentException("not direct");
                }
                alive();
                byte[] payload = new byte[data.remaining()];
                if ((requestType & 0x80) == 0) {
                    data.get(data.position(), payload);
                }
                synchronized (lock) {
                    if (controlStall) {
                        throw new UsbBackendException(Kind.OTHER, "LIBUSB_ERROR_PIPE", "Pipe error");
                    }
                    controlRequests.add(new ControlRequest(requestType, request, value, index, payload));
                }
                return (requestType & 0x80) == 0 ? payload.length : 0;
            }

            @Override
            public void clearHalt(int endpoint) throws UsbBackendException {
                alive();
                synchronized (lock) {
                    haltsCleared++;
                    if ((endpoint & 0x80) != 0) {
                        inHalted = false;
                    } else {
                        outHalted = false;
                    }
                }
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    release(0);
                    openHandles.decrementAndGet();
                }
            }
        }
    }

    /** A control request the device received. */
    record ControlRequest(int requestType, int request, int value, int index, byte[] data) {
        @Override
        public String toString() {
            return String.format("type 0x%02x request %d value 0x%04x index 0x%04x (%d bytes)", requestType, request, value,
                    index, data.length);
        }
    }

    /** {@code mancom.usb.backend = "memory:ID"}: a session on the bus registered under ID. */
    public static final class Factory implements UsbBackendFactory {
        @Override
        public String name() {
            return "memory";
        }

        @Override
        public UsbBackend start(String argument) throws UsbBackendException {
            InMemoryUsb bus = BUSES.get(argument);
            if (bus == null) {
                throw new UsbBackendException(Kind.INIT_FAILED, "NO_BUS", "no in-memory USB bus " + argument);
            }
            return bus.session();
        }
    }
}
