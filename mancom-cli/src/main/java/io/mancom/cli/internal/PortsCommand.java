package io.mancom.cli.internal;

import io.mancom.ManComException;
import io.mancom.serial.SerialPortInfo;
import io.mancom.serial.SerialPorts;
import io.mancom.usb.UsbDeviceInfo;
import io.mancom.usb.UsbDevices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code mancom ports}: the serial ports and USB devices this machine has, as the serial and USB
 * transports see them, with what to put in an endpoint.
 */
@Command(name = "ports", mixinStandardHelpOptions = true,
        description = {"List the serial ports and USB devices of this machine.",
                "",
                "Shows each port's device path (what goes in a serial:///PATH endpoint), the driver's description,"
                        + " and for USB adapters the vendor:product id and serial number. Pseudo-terminals"
                        + " (/dev/pts/N) are not listed but can be opened by path.",
                "",
                "Then the USB devices libusb sees: bus, address, vendor:product id (what goes in a usb://VID:PID"
                        + " endpoint), and the manufacturer, product and serial strings where this user may read them."
                        + " If libusb cannot start here (no USB subsystem, as in a container), it says why."})
final class PortsCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<SerialPortInfo> ports = list();
        if (ports.isEmpty()) {
            out.println("no serial ports found (pseudo-terminals such as /dev/pts/N are not listed, but can be opened by path)");
        } else {
            Table t = new Table("", "path", "description", "usb id", "serial number");
            for (SerialPortInfo p : ports) {
                t.row(p.path(), p.description().isEmpty() ? "-" : p.description(), p.usbId().orElse("-"),
                        p.serialNumber().orElse("-"));
            }
            t.print(out);
            out.println();
            out.println("Use a port in a service: endpoint = \"serial://" + ports.get(0).path() + "?baud=115200\"");
        }
        out.println();
        printUsb(out);
        out.flush();
        return 0;
    }

    private static void printUsb(PrintWriter out) {
        List<UsbDeviceInfo> devices;
        try {
            devices = UsbDevices.list();
        } catch (ManComException e) {
            // Not an error of the command: serial ports may be all this machine has.
            out.println("USB devices: not listed: " + e.getMessage());
            return;
        } catch (LinkageError e) {
            out.println("USB devices: not listed: the USB library's native part did not load (" + e.getMessage() + ")");
            return;
        }
        if (devices.isEmpty()) {
            out.println("no USB devices found");
            return;
        }
        Table t = new Table("", "bus", "address", "usb id", "manufacturer", "product", "serial number");
        for (UsbDeviceInfo d : devices) {
            String none = d.unreadable().isPresent() ? "?" : "-";
            t.row(String.valueOf(d.bus()), String.valueOf(d.address()), d.usbId(), d.manufacturer().orElse(none),
                    d.product().orElse(none), d.serialNumber().orElse(none));
        }
        t.print(out);
        if (devices.stream().anyMatch(d -> d.unreadable().isPresent())) {
            out.println("? = not readable by this user (a udev rule grants access; see docs/usb.md)");
        }
        out.println();
        out.println("Use a device in a service: endpoint = \"" + devices.get(0).endpointUri() + "\"");
    }

    private static List<SerialPortInfo> list() {
        try {
            return SerialPorts.list();
        } catch (LinkageError e) {
            // jSerialComm's native part did not load (unsupported platform, or no writable folder to
            // unpack it to): say so instead of failing with a trace from inside the library.
            throw new IllegalStateException("cannot list serial ports: the serial library's native part did not load ("
                    + e.getMessage() + "); run with --verbose for details", e);
        }
    }
}
