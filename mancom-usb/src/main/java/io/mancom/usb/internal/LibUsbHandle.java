package io.mancom.usb.internal;

import io.mancom.usb.internal.UsbBackendException.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.usb4java.ConfigDescriptor;
import org.usb4java.Device;
import org.usb4java.DeviceDescriptor;
import org.usb4java.DeviceHandle;
import org.usb4java.EndpointDescriptor;
import org.usb4java.Interface;
import org.usb4java.InterfaceDescriptor;
import org.usb4java.LibUsb;
import org.usb4java.LibUsbException;
import org.usb4java.Transfer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/** An open device on libusb. See {@link UsbHandle} for the contract. */
final class LibUsbHandle implements UsbHandle {
    private static final Logger log = LoggerFactory.getLogger(LibUsbHandle.class);
    /** The buffer of zero-length packets: usb4java wants a buffer even for length 0. */
    private static final ByteBuffer ZLP = ByteBuffer.allocateDirect(1);

    private final UsbDeviceRef device;
    private final DeviceHandle handle;
    private final Set<Integer> claimed = ConcurrentHashMap.newKeySet();
    private final Set<Integer> detached = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean closed = new AtomicBoolean();

    private final Runnable afterClose;

    LibUsbHandle(UsbDeviceRef device, DeviceHandle handle) {
        this(device, handle, () -> { });
    }

    /** {@code afterClose} runs once, after the device handle is closed (it ends a context of the handle's own). */
    LibUsbHandle(UsbDeviceRef device, DeviceHandle handle, Runnable afterClose) {
        this.device = device;
        this.handle = handle;
        this.afterClose = afterClose;
    }

    @Override
    public UsbDeviceRef device() {
        return device;
    }

    @Override
    public DeviceStrings strings() {
        DeviceDescriptor dd = new DeviceDescriptor();
        int r = LibUsb.getDeviceDescriptor(LibUsb.getDevice(handle), dd);
        if (r != LibUsb.SUCCESS) {
            return DeviceStrings.unreadable(LibUsb.errorName(r));
        }
        return new DeviceStrings(string(dd.iManufacturer()), string(dd.iProduct()), string(dd.iSerialNumber()), Optional.empty());
    }

    private Optional<String> string(byte index) {
        if (index == 0) {
            return Optional.empty(); // the device has no such string
        }
        try {
            return Optional.ofNullable(LibUsb.getStringDescriptor(handle, index)).map(String::strip).filter(s -> !s.isEmpty());
        } catch (LibUsbException e) {
            return Optional.empty();
        }
    }

    private <T> T withConfig(ConfigFunction<T> f) throws UsbBackendException {
        Device d = LibUsb.getDevice(handle);
        ConfigDescriptor cd = new ConfigDescriptor();
        int r = LibUsb.getActiveConfigDescriptor(d, cd);
        if (r != LibUsb.SUCCESS) {
            throw LibUsbBackend.error(r, "cannot read the configuration of USB device " + device.describe());
        }
        try {
            return f.apply(cd);
        } finally {
            LibUsb.freeConfigDescriptor(cd);
        }
    }

    private interface ConfigFunction<T> {
        T apply(ConfigDescriptor cd) throws UsbBackendException;
    }

    @Override
    public List<Integer> interfaces() throws UsbBackendException {
        return withConfig(cd -> {
            List<Integer> out = new ArrayList<>();
            for (Interface i : cd.iface()) {
                if (i.numAltsetting() > 0) {
                    out.add(i.altsetting()[0].bInterfaceNumber() & 0xff);
                }
            }
            return out;
        });
    }

    @Override
    public List<UsbEndpoint> endpoints(int iface) throws UsbBackendException {
        return withConfig(cd -> {
            for (Interface i : cd.iface()) {
                if (i.numAltsetting() == 0) {
                    continue;
                }
                InterfaceDescriptor alt0 = i.altsetting()[0];
                if ((alt0.bInterfaceNumber() & 0xff) != iface) {
                    continue;
                }
                List<UsbEndpoint> out = new ArrayList<>();
                for (EndpointDescriptor e : alt0.endpoint()) {
                    UsbEndpoint.Type type = UsbEndpoint.Type.values()[e.bmAttributes() & 0x03];
                    // Bits 11..12 count extra transactions per microframe (high-speed periodic
                    // endpoints); the packet size is bits 0..10.
                    out.add(new UsbEndpoint(e.bEndpointAddress() & 0xff, type, Math.max(1, e.wMaxPacketSize() & 0x7ff)));
                }
                return out;
            }
            throw new UsbBackendException(Kind.NOT_FOUND, "LIBUSB_ERROR_NOT_FOUND", "no interface " + iface);
        });
    }

    @Override
    public void claim(int iface) throws UsbBackendException {
        boolean detachedNow = false;
        if (LibUsb.hasCapability(LibUsb.CAP_SUPPORTS_DETACH_KERNEL_DRIVER)) {
            int active = LibUsb.kernelDriverActive(handle, iface);
            if (active == 1) {
                int r = LibUsb.detachKernelDriver(handle, iface);
                if (r != LibUsb.SUCCESS) {
                    UsbBackendException e = LibUsbBackend.error(r, "a kernel driver is bound to interface " + iface
                            + " and could not be detached");
                    throw new UsbBackendException(e.kind() == Kind.ACCESS ? Kind.ACCESS : Kind.BUSY, e.code(), e.getMessage());
                }
                detachedNow = true;
                detached.add(iface);
            }
        }
        int r = LibUsb.claimInterface(handle, iface);
        if (r != LibUsb.SUCCESS) {
            if (detachedNow) {
                detached.remove(iface);
                LibUsb.attachKernelDriver(handle, iface);
            }
            throw LibUsbBackend.error(r, "cannot claim interface " + iface);
        }
        claimed.add(iface);
    }

    @Override
    public void release(int iface) {
        if (claimed.remove(iface)) {
            int r = LibUsb.releaseInterface(handle, iface);
            if (r != LibUsb.SUCCESS && r != LibUsb.ERROR_NO_DEVICE) {
                log.debug("releasing interface {} of {}: {}", iface, device.describe(), LibUsb.errorName(r));
            }
        }
        if (detached.remove(iface)) {
            int r = LibUsb.attachKernelDriver(handle, iface);
            if (r != LibUsb.SUCCESS && r != LibUsb.ERROR_NO_DEVICE) {
                log.warn("could not reattach the kernel driver of interface {} of {}: {}", iface, device.describe(),
                        LibUsb.errorName(r));
            }
        }
    }

    @Override
    public UsbTransfer submit(int endpoint, ByteBuffer buffer, long timeoutMillis, TransferCallback callback)
            throws UsbBackendException {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("a USB transfer needs a direct buffer");
        }
        // usb4java takes the transfer length from the buffer's capacity, not its limit: hand it a
        // view that is exactly the bytes between position and limit.
        int length = buffer.remaining();
        ByteBuffer exact = length == 0 ? ZLP : buffer.slice();
        LibUsbTransfer t = new LibUsbTransfer(LibUsb.allocTransfer(), callback);
        LibUsb.fillBulkTransfer(t.transfer, handle, (byte) endpoint, exact, t::completed, null, timeoutMillis);
        if (length == 0) {
            t.transfer.setLength(0);
        }
        int r = LibUsb.submitTransfer(t.transfer);
        if (r != LibUsb.SUCCESS) {
            LibUsb.freeTransfer(t.transfer);
            throw LibUsbBackend.error(r, String.format("cannot submit a transfer on endpoint 0x%02x", endpoint));
        }
        return t;
    }

    @Override
    public int control(int requestType, int request, int value, int index, ByteBuffer data, long timeoutMillis)
            throws UsbBackendException {
        if (!data.isDirect()) {
            throw new IllegalArgumentException("a USB control transfer needs a direct buffer");
        }
        // As for bulk transfers: usb4java takes wLength from the buffer's capacity.
        ByteBuffer exact = data.slice();
        int r = LibUsb.controlTransfer(handle, (byte) requestType, (byte) request, (short) value, (short) index, exact,
                timeoutMillis);
        if (r < 0) {
            throw LibUsbBackend.error(r, String.format("control request 0x%02x (type 0x%02x, value 0x%04x, index 0x%04x) failed",
                    request, requestType, value, index));
        }
        return r;
    }

    @Override
    public void clearHalt(int endpoint) throws UsbBackendException {
        int r = LibUsb.clearHalt(handle, (byte) endpoint);
        if (r != LibUsb.SUCCESS) {
            throw LibUsbBackend.error(r, String.format("cannot clear the halt of endpoint 0x%02x", endpoint));
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            for (Integer iface : List.copyOf(claimed)) {
                release(iface);
            }
            LibUsb.close(handle);
            afterClose.run();
        }
    }

    /** One libusb transfer; freed in its callback, so cancel must not touch it after that. */
    private static final class LibUsbTransfer implements UsbTransfer {
        private final Transfer transfer;
        private final TransferCallback callback;
        private boolean done; // guarded by this

        LibUsbTransfer(Transfer transfer, TransferCallback callback) {
            this.transfer = transfer;
            this.callback = callback;
        }

        void completed(Transfer t) {
            TransferStatus status = status(t.status());
            int actual = t.actualLength();
            synchronized (this) {
                done = true;
                LibUsb.freeTransfer(t);
            }
            callback.done(status, actual);
        }

        @Override
        public void cancel() {
            synchronized (this) {
                if (!done) {
                    LibUsb.cancelTransfer(transfer);
                }
            }
        }

        private static TransferStatus status(int s) {
            if (s == LibUsb.TRANSFER_COMPLETED) {
                return TransferStatus.COMPLETED;
            } else if (s == LibUsb.TRANSFER_TIMED_OUT) {
                return TransferStatus.TIMED_OUT;
            } else if (s == LibUsb.TRANSFER_STALL) {
                return TransferStatus.STALL;
            } else if (s == LibUsb.TRANSFER_NO_DEVICE) {
                return TransferStatus.NO_DEVICE;
            } else if (s == LibUsb.TRANSFER_CANCELLED) {
                return TransferStatus.CANCELLED;
            } else if (s == LibUsb.TRANSFER_OVERFLOW) {
                return TransferStatus.OVERFLOW;
            }
            return TransferStatus.ERROR;
        }
    }
}
