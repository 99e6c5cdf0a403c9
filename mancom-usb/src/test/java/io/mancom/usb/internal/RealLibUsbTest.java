package io.mancom.usb.internal;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.usb.UsbDeviceInfo;
import io.mancom.usb.UsbDevices;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real usb4java backend, as far as this machine allows: libusb starts and enumerates, or it
 * fails with the clear error. Passes either way; what happened is printed for the docs.
 */
class RealLibUsbTest {

    @Test
    void libusbStartsAndEnumeratesOrSaysWhyNot() throws Exception {
        LibUsbBackend backend;
        try {
            backend = LibUsbBackend.start();
        } catch (UsbBackendException e) {
            System.out.println("[real libusb] start failed: " + e.code() + ": " + e.getMessage());
            assertThat(e.kind()).isEqualTo(UsbBackendException.Kind.INIT_FAILED);
            assertThat(e.code()).matches("LIBUSB_ERROR_[A-Z_]+|NATIVE_LIBRARY");
            return;
        }
        try {
            System.out.println("[real libusb] started: " + backend.describe() + ", hotplug " + backend.hotplugSupported());
            List<UsbDeviceRef> devices = backend.devices();
            System.out.println("[real libusb] devices: " + devices);
            for (UsbDeviceRef d : devices) {
                assertThat(d.bus()).isBetween(0, 255);
                assertThat(d.address()).isBetween(0, 127);
            }
            // The watcher's hotplug path (or the poller) starts and stops against the real context.
            try (DeviceWatcher w = new DeviceWatcher(backend, true, java.time.Duration.ofMillis(50))) {
                w.watch(new HotplugListener() {
                    @Override
                    public void arrived(UsbDeviceRef device) {
                    }

                    @Override
                    public void left(UsbDeviceRef device) {
                    }
                }).close();
            }
        } finally {
            backend.close();
        }
    }

    @Test
    void listingDevicesWorksOrTheMessageSaysWhatToDo() {
        try {
            List<UsbDeviceInfo> list = UsbDevices.list();
            System.out.println("[real libusb] UsbDevices.list(): " + list);
            assertThat(list).allSatisfy(d -> assertThat(d.describe()).startsWith("bus "));
        } catch (ManComException e) {
            System.out.println("[real libusb] UsbDevices.list() failed: " + e.getMessage());
            assertThat(e.reason()).isEqualTo(Reason.IO);
            assertThat(e.getMessage()).startsWith("libusb cannot start (");
            if (System.getProperty("os.name").toLowerCase().contains("linux") && !Files.isDirectory(Path.of("/dev/bus/usb"))) {
                assertThat(e.getMessage()).contains("/dev/bus/usb does not exist (typical inside a container)")
                        .contains("docker run --device /dev/bus/usb");
            }
        }
    }

    @Test
    void anOpenThroughTheRealBackendFailsWithAClearReason() {
        LibUsbBackend[] started = new LibUsbBackend[1];
        UsbOpener.Sessions sessions = () -> {
            try {
                started[0] = LibUsbBackend.start();
                return new UsbOpener.Session(started[0], new DeviceWatcher(started[0], true, java.time.Duration.ofSeconds(1)),
                        java.util.concurrent.ConcurrentHashMap.newKeySet());
            } catch (UsbBackendException e) {
                throw UsbErrors.forThisMachine().cannotStart("libusb", e);
            }
        };
        // No device with this made-up id exists here (or anywhere, we hope).
        try {
            UsbLink l = UsbOpener.forClient(sessions, UsbErrors.forThisMachine()).open(io.mancom.EndPoint.parse("usb://fffe:fffd"));
            l.close();
            throw new AssertionError("opened a device fffe:fffd");
        } catch (ManComException e) {
            System.out.println("[real libusb] open usb://fffe:fffd: " + e.reason() + ": " + e.getMessage());
            assertThat(e.reason()).isIn(Reason.IO, Reason.NO_DEVICE);
            assertThat(e.getMessage()).containsAnyOf("libusb cannot start (", "no USB device fffe:fffd is plugged in. USB devices present:");
        } finally {
            if (started[0] != null) {
                started[0].close();
            }
        }
    }
}
