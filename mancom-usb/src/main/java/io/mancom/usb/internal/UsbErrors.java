package io.mancom.usb.internal;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.UsbAddress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Words every USB failure for the person who has to fix it: what happened, and what to do. Kept
 * apart from the backends so that the messages are the same for every backend and tested against
 * the in-memory one.
 *
 * <p>Immutable and thread-safe. The constructor takes what the messages depend on beyond the
 * failure itself (the user, the operating system, whether {@code /dev/bus/usb} exists), so that
 * tests can pin them.
 */
public final class UsbErrors {
    private final String user;
    private final String os;
    private final Path usbfs;

    /** Messages for this process: the current user, OS and {@code /dev/bus/usb}. */
    public static UsbErrors forThisMachine() {
        return new UsbErrors(System.getProperty("user.name", "you"), System.getProperty("os.name", ""), Path.of("/dev/bus/usb"));
    }

    UsbErrors(String user, String os, Path usbfs) {
        this.user = user;
        this.os = os.toLowerCase(Locale.ROOT);
        this.usbfs = usbfs;
    }

    private boolean linux() {
        return os.contains("linux");
    }

    /** The backend cannot start at all. Reason {@code IO}: nothing about the device can help. */
    public ManComException cannotStart(String backend, UsbBackendException e) {
        StringBuilder sb = new StringBuilder(backend).append(" cannot start (").append(e.code()).append(": ")
                .append(e.getMessage()).append("). ");
        if (e.code().equals("NATIVE_LIBRARY")) {
            sb.append("usb4java 1.3.0 bundles libusb for Linux (x86, x86-64, arm, aarch64), macOS (x86-64) and Windows;"
                    + " this is ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                    .append(". It also needs a writable temporary folder to unpack the library into (java.io.tmpdir).");
        } else if (linux() && !Files.isDirectory(usbfs)) {
            sb.append("This machine has no USB subsystem that libusb can use: ").append(usbfs)
                    .append(" does not exist (typical inside a container). Run on the host, or pass the USB bus into the"
                            + " container, for example `docker run --device /dev/bus/usb ...` (or `-v /dev/bus/usb:/dev/bus/usb"
                            + " --device-cgroup-rule='c 189:* rmw'` to also see devices plugged in later).");
        } else {
            sb.append("Check that the USB subsystem is available to this process (").append(linux() ? usbfs + " and /sys/bus/usb"
                    : "the USB drivers").append(").");
        }
        return new ManComException(Reason.IO, sb.toString(), e);
    }

    /** No attached device matches the address. */
    public ManComException noDevice(UsbAddress a, List<UsbDeviceRef> present, List<String> serialsSeen) {
        StringBuilder sb = new StringBuilder("no USB device ").append(wanted(a)).append(" is plugged in");
        if (!serialsSeen.isEmpty()) {
            sb.append(" (").append(id(a)).append(" with serial ").append(String.join(", ", serialsSeen)).append(" is)");
        }
        sb.append(". USB devices present: ");
        sb.append(present.isEmpty() ? "none" : present.stream().map(UsbDeviceRef::describe).collect(Collectors.joining(", ")));
        sb.append(". Plug the device in (`dmesg` shows what the kernel saw; `mancom ports` lists the devices with"
                + " their names), or fix the endpoint's ").append(a.serial().isPresent() || a.bus().isPresent()
                || a.deviceAddress().isPresent() ? "vendor:product id, serial, bus or address" : "vendor:product id");
        return new ManComException(Reason.NO_DEVICE, sb.toString());
    }

    /** The operating system denied opening the device. */
    public ManComException permissionDenied(UsbDeviceRef d, UsbBackendException e) {
        StringBuilder sb = new StringBuilder("permission denied opening USB device ").append(d.describe());
        if (linux()) {
            String vid = String.format(Locale.ROOT, "%04x", d.vendorId());
            String pid = String.format(Locale.ROOT, "%04x", d.productId());
            sb.append(" (").append(d.devNode()).append(", ").append(e.code()).append("). User '").append(user)
                    .append("' may not use it: USB device nodes belong to root unless a udev rule grants access."
                            + " Add one, for example as /etc/udev/rules.d/70-mancom-").append(vid).append('-').append(pid)
                    .append(".rules:\n  SUBSYSTEM==\"usb\", ATTRS{idVendor}==\"").append(vid).append("\", ATTRS{idProduct}==\"")
                    .append(pid).append("\", MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\"\n")
                    .append("then run `sudo udevadm control --reload-rules && sudo udevadm trigger` and replug the device."
                            + " TAG+=\"uaccess\" gives the user logged in at the console access; for others (services, ssh)"
                            + " add the user to the group: `sudo usermod -aG plugdev ").append(user)
                    .append("`, then log out and in again");
        } else {
            sb.append(" (").append(e.code()).append(": ").append(e.getMessage()).append(")");
            if (os.contains("windows")) {
                sb.append(". On Windows libusb needs the WinUSB driver bound to the device (install it with Zadig)");
            }
        }
        return new ManComException(Reason.PERMISSION_DENIED, sb.toString(), e);
    }

    /** Another program or a kernel driver holds the interface. */
    public ManComException busy(UsbDeviceRef d, int iface, UsbBackendException e) {
        StringBuilder sb = new StringBuilder("interface ").append(iface).append(" of USB device ").append(d.describe())
                .append(" is busy (").append(e.code()).append("): it is claimed by another program, by this program"
                        + " already, or by a kernel driver that could not be detached (").append(e.getMessage()).append(").");
        if (linux()) {
            sb.append(" Find the driver with `ls -l /sys/bus/usb/devices/*:*.").append(iface)
                    .append("/driver`, and programs holding the device with `sudo lsof ").append(d.devNode())
                    .append("`; stop the program, or unbind the driver");
        }
        return new ManComException(Reason.BUSY, sb.toString(), e);
    }

    /** The device was unplugged (or reset) while open. */
    public ManComException gone(UsbDeviceRef d) {
        return new ManComException(Reason.LINK_FAILED, "USB device " + d.describe()
                + " was unplugged (or reset by the host); the service opens it again when it returns");
    }

    /** Any other failure of {@code what}. */
    public ManComException other(String what, UsbDeviceRef d, UsbBackendException e) {
        Reason reason = switch (e.kind()) {
            case NO_DEVICE -> Reason.NO_DEVICE;
            case ACCESS -> Reason.PERMISSION_DENIED;
            case BUSY -> Reason.BUSY;
            default -> Reason.IO;
        };
        return new ManComException(reason, what + " on USB device " + d.describe() + " failed: " + e.code() + ": " + e.getMessage(), e);
    }

    static String id(UsbAddress a) {
        return String.format(Locale.ROOT, "%04x:%04x", a.vendorId(), a.productId());
    }

    static String wanted(UsbAddress a) {
        StringBuilder sb = new StringBuilder(id(a));
        a.serial().ifPresent(s -> sb.append(" with serial ").append(s));
        a.bus().ifPresent(b -> sb.append(" on bus ").append(b));
        a.deviceAddress().ifPresent(x -> sb.append(" at address ").append(x));
        return sb.toString();
    }
}
