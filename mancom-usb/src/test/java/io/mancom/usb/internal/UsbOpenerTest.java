package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.usb.UsbDeviceInfo;
import io.mancom.usb.UsbDevices;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static io.mancom.usb.internal.UsbTestSupport.ERRORS;
import static io.mancom.usb.internal.UsbTestSupport.PID;
import static io.mancom.usb.internal.UsbTestSupport.VID;
import static io.mancom.usb.internal.UsbTestSupport.echoDevice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Matching, claiming, waiting for arrival, and every open error, against the in-memory bus. */
class UsbOpenerTest {
    private final InMemoryUsb bus = InMemoryUsb.create(true);
    private final List<UsbLink> links = new java.util.concurrent.CopyOnWriteArrayList<>();
    private UsbOpener.Session session;

    @AfterEach
    void close() {
        links.forEach(UsbLink::close);
        if (session != null) {
            session.watcher().close();
            session.backend().close();
        }
        bus.close();
    }

    private UsbOpener.Session session() throws UsbBackendException {
        if (session == null) {
            session = UsbTestSupport.session(bus);
        }
        return session;
    }

    private UsbLink open(String uri) throws Exception {
        UsbLink l = UsbTestSupport.open(session(), uri);
        links.add(l);
        return l;
    }

    private static ManComException failure(ThrowingOpen open) {
        try {
            open.run();
        } catch (ManComException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("opened");
    }

    private interface ThrowingOpen {
        void run() throws Exception;
    }

    @Test
    void theDefaultEndpointsAreTheFirstBulkPairOfInterfaceZero() throws Exception {
        bus.plug(echoDevice());
        UsbLink l = open("usb://16c0:05dc");
        // 0x83 is an interrupt IN endpoint listed first: skipped.
        assertThat(l.remote()).isEqualTo(EndPoint.parse("usb://16c0:05dc?interface=0&bus=1&address=2&in=0x81&out=0x02"));
        assertThat(l.local()).isEqualTo(EndPoint.parse("usb://16c0:05dc"));
    }

    @Test
    void serialBusAndAddressSelectTheDevice() throws Exception {
        bus.plug(new InMemoryUsb.Device(VID, PID, "A", 64));
        InMemoryUsb.Device b = bus.plug(new InMemoryUsb.Device(VID, PID, "B", 64));
        assertThat(open("usb://16c0:05dc?serial=B").device()).isEqualTo(b.ref);
        links.forEach(UsbLink::close);
        assertThat(open("usb://16c0:05dc?bus=1&address=3").device()).isEqualTo(b.ref);
        assertThat(b.openHandles.get()).as("the candidate with the wrong serial was closed again").isEqualTo(1);

        ManComException e = failure(() -> open("usb://16c0:05dc?serial=C"));
        assertThat(e.reason()).isEqualTo(Reason.NO_DEVICE);
        assertThat(e.getMessage()).startsWith("no USB device 16c0:05dc with serial C is plugged in (16c0:05dc with serial A, B is)")
                .contains("fix the endpoint's vendor:product id, serial, bus or address");
    }

    @Test
    void noMatchingDeviceListsTheDevicesPresent() throws Exception {
        bus.plug(new InMemoryUsb.Device(0x1d6b, 0x0002, null, 64));
        ManComException e = failure(() -> open("usb://16c0:05dc"));
        assertThat(e.reason()).isEqualTo(Reason.NO_DEVICE);
        assertThat(e.getMessage()).isEqualTo("no USB device 16c0:05dc is plugged in. USB devices present: 1d6b:0002 on bus 1"
                + " address 2. Plug the device in (`dmesg` shows what the kernel saw; `mancom ports` lists the devices with"
                + " their names), or fix the endpoint's vendor:product id");
    }

    @Test
    void permissionDeniedExplainsTheUdevRule() {
        InMemoryUsb.Device d = bus.plug(echoDevice());
        d.denyAccess = true;
        ManComException e = failure(() -> open("usb://16c0:05dc"));
        assertThat(e.reason()).isEqualTo(Reason.PERMISSION_DENIED);
        assertThat(e.getMessage())
                .startsWith("permission denied opening USB device 16c0:05dc on bus 1 address 2 (/dev/bus/usb/001/002, LIBUSB_ERROR_ACCESS)")
                .contains("/etc/udev/rules.d/70-mancom-16c0-05dc.rules:\n"
                        + "  SUBSYSTEM==\"usb\", ATTRS{idVendor}==\"16c0\", ATTRS{idProduct}==\"05dc\", MODE=\"0660\","
                        + " GROUP=\"plugdev\", TAG+=\"uaccess\"\n")
                .contains("sudo udevadm control --reload-rules && sudo udevadm trigger")
                .contains("sudo usermod -aG plugdev bob");
    }

    @Test
    void aClaimedInterfaceIsBusyAndSaysWhoMayHoldIt() throws Exception {
        InMemoryUsb.Device d = bus.plug(echoDevice());
        d.claimedElsewhere = true;
        ManComException e = failure(() -> open("usb://16c0:05dc"));
        assertThat(e.reason()).isEqualTo(Reason.BUSY);
        assertThat(e.getMessage()).startsWith("interface 0 of USB device 16c0:05dc on bus 1 address 2 is busy (LIBUSB_ERROR_BUSY):"
                + " it is claimed by another program, by this program already, or by a kernel driver")
                .contains("ls -l /sys/bus/usb/devices/*:*.0/driver").contains("sudo lsof /dev/bus/usb/001/002");
        assertThat(d.openHandles.get()).as("the handle was closed again").isZero();

        d.claimedElsewhere = false;
        open("usb://16c0:05dc");
        assertThat(failure(() -> open("usb://16c0:05dc")).reason()).as("a second open of the same interface").isEqualTo(Reason.BUSY);
    }

    @Test
    void aKernelDriverThatCannotBeDetachedIsBusy() {
        InMemoryUsb.Device d = bus.plug(echoDevice());
        d.kernelDriverBound = true;
        d.driverDetachable = false;
        ManComException e = failure(() -> open("usb://16c0:05dc"));
        assertThat(e.reason()).isEqualTo(Reason.BUSY);
        assertThat(e.getMessage()).contains("could not be detached");
    }

    @Test
    void badInterfaceOrEndpointsAreConfigErrorsNamingTheKey() {
        bus.plug(echoDevice());
        ManComException e = failure(() -> open("usb://16c0:05dc?interface=1"));
        assertThat(e.reason()).isEqualTo(Reason.CONFIG);
        assertThat(e.getMessage()).startsWith("interface=1: USB device 16c0:05dc on bus 1 address 2 has no interface 1; its interfaces: 0");

        e = failure(() -> open("usb://16c0:05dc?in=0x83"));
        assertThat(e.reason()).isEqualTo(Reason.CONFIG);
        assertThat(e.getMessage()).startsWith("in=0x83: interface 0 of USB device 16c0:05dc on bus 1 address 2 has no bulk IN"
                + " endpoint 0x83; its endpoints: 0x83 interrupt IN (8 bytes), 0x81 bulk IN (64 bytes), 0x02 bulk OUT (64 bytes)");

        e = failure(() -> open("usb://16c0:05dc?out=0x05"));
        assertThat(e.getMessage()).startsWith("out=0x05: interface 0 of USB device");

        e = failure(() -> open("usb://16c0:05dc?profile=cdc&baud=9600"));
        assertThat(e.reason()).isEqualTo(Reason.CONFIG);
        assertThat(e.getMessage()).startsWith("profile=cdc is not supported in usb://16c0:05dc").contains("the profile ftdi");

        e = failure(() -> open("usb://16c0:05dc?profile=ftdi&baud=9"));
        assertThat(e.reason()).isEqualTo(Reason.CONFIG);
        assertThat(e.getMessage()).startsWith("baud=9 is out of range 183..3000000 (in usb://16c0:05dc");

        e = failure(() -> open("usb://16c0:05dc?profile=ftdi&parity=weird"));
        assertThat(e.getMessage()).startsWith("parity=weird is not one of none, odd, even, mark, space");

        e = failure(() -> open("usb://16c0:05dc?profile=ftdi&speed=9600"));
        assertThat(e.getMessage()).startsWith("speed=9600 is not an option of profile=ftdi; its options: baud, data, flow, latency, parity, stop");
    }

    @Test
    void libusbThatCannotStartSaysWhyAndWhatToDo() {
        UsbBackendException cause = new UsbBackendException(UsbBackendException.Kind.INIT_FAILED, "LIBUSB_ERROR_OTHER",
                "libusb_init failed: Other error");
        ManComException e = ERRORS.cannotStart("libusb", cause);
        assertThat(e.reason()).isEqualTo(Reason.IO);
        assertThat(e.getMessage()).isEqualTo("libusb cannot start (LIBUSB_ERROR_OTHER: libusb_init failed: Other error)."
                + " This machine has no USB subsystem that libusb can use: /nonexistent/dev/bus/usb does not exist (typical"
                + " inside a container). Run on the host, or pass the USB bus into the container, for example `docker run"
                + " --device /dev/bus/usb ...` (or `-v /dev/bus/usb:/dev/bus/usb --device-cgroup-rule='c 189:* rmw'` to also"
                + " see devices plugged in later).");
        ManComException withBus = new UsbErrors("bob", "Linux", Path.of("/")).cannotStart("libusb", cause);
        assertThat(withBus.getMessage()).contains("Check that the USB subsystem is available to this process (/ and /sys/bus/usb)");
    }

    @ParameterizedTest(name = "hotplug events: {0}")
    @ValueSource(booleans = {true, false})
    void aListenersOpenWaitsForTheDeviceToArrive(boolean events) throws Exception {
        InMemoryUsb b = InMemoryUsb.create(events);
        InMemoryUsb.Session s = b.session();
        DeviceWatcher watcher = new DeviceWatcher(s, true, Duration.ofMillis(10));
        UsbOpener.Session ss = new UsbOpener.Session(s, watcher, ConcurrentHashMap.newKeySet());
        assertThat(watcher.eventDriven()).isEqualTo(events);
        UsbOpener opener = UsbOpener.forListener(() -> ss, ERRORS, Duration.ofSeconds(30));
        try {
            EndPoint e = EndPoint.parse("usb://16c0:05dc");
            // The first failure is reported at once, so that the service can say why it waits.
            assertThat(failure(() -> opener.open(e)).reason()).isEqualTo(Reason.NO_DEVICE);
            CompletableFuture<UsbLink> second = CompletableFuture.supplyAsync(() -> {
                try {
                    return opener.open(e);
                } catch (ManComException x) {
                    throw new java.util.concurrent.CompletionException(x);
                }
            });
            // A device that does not match does not end the wait.
            b.plug(new InMemoryUsb.Device(0x1234, 0x5678, null, 64));
            InMemoryUsb.Device d = b.plug(echoDevice());
            UsbLink l = second.get(10, TimeUnit.SECONDS);
            assertThat(l.device()).isEqualTo(d.ref);
            l.close();

            // Closing the opener ends a wait at once.
            b.unplug(d);
            assertThat(failure(() -> opener.open(e)).reason()).isEqualTo(Reason.NO_DEVICE);
            CompletableFuture<UsbLink> third = CompletableFuture.supplyAsync(() -> {
                try {
                    return opener.open(e);
                } catch (ManComException x) {
                    throw new java.util.concurrent.CompletionException(x);
                }
            });
            opener.close();
            assertThatThrownBy(() -> third.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ManComException.class)
                    .hasMessageContaining("was closed");
        } finally {
            watcher.close();
            s.close();
            b.close();
        }
    }

    @Test
    void devicesAreListedWithTheirStrings() throws Exception {
        bus.plug(echoDevice());
        InMemoryUsb.Device locked = bus.plug(new InMemoryUsb.Device(0x0403, 0x6001, "FT1", 64));
        locked.denyAccess = true;
        List<UsbDeviceInfo> list = UsbDevices.list(session().backend());
        assertThat(list).extracting(UsbDeviceInfo::describe).containsExactly(
                "bus 1 address 2: 16c0:05dc (ManCom Test, Bulk Echo, serial A1)",
                "bus 1 address 3: 0403:6001 (names unreadable: no permission to open the device)");
        assertThat(list.get(0).endpointUri()).isEqualTo("usb://16c0:05dc?serial=A1");
    }
}
