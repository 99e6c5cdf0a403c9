package io.mancom.cli.internal;

import io.mancom.serial.SerialPortInfo;
import io.mancom.serial.SerialPorts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code mancom ports}: the serial ports this machine has, as the serial transport sees them, with
 * what to put in an endpoint.
 */
@Command(name = "ports", mixinStandardHelpOptions = true,
        description = {"List the serial ports of this machine.",
                "",
                "Shows each port's device path (what goes in a serial:///PATH endpoint), the driver's description,"
                        + " and for USB adapters the vendor:product id and serial number. Pseudo-terminals"
                        + " (/dev/pts/N) are not listed but can be opened by path."})
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
        out.flush();
        return 0;
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
