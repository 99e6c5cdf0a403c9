package io.mancom.serial;

import com.fazecast.jSerialComm.SerialPort;
import io.mancom.serial.internal.SerialOpener;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The serial ports of this machine, for {@code mancom ports} and for error messages.
 *
 * <p>Lists what jSerialComm's enumeration finds: on Linux the ports the kernel shows in
 * {@code /sys} (USB adapters, on-board UARTs). Pseudo-terminals ({@code /dev/pts/N}) and
 * symbolic links to ports are not listed, though they can be opened by path.
 *
 * <p>Thread-safe. The first call loads jSerialComm's native library; each call scans the system
 * again (a few milliseconds; more on machines with many devices).
 */
public final class SerialPorts {
    private SerialPorts() {
    }

    /** The ports found now, sorted by path. */
    public static List<SerialPortInfo> list() {
        List<SerialPortInfo> out = new ArrayList<>();
        for (SerialPort p : SerialOpener.commPorts()) { // not during an open: see there
            out.add(info(p));
        }
        out.sort(Comparator.comparing(SerialPortInfo::path));
        return List.copyOf(out);
    }

    static SerialPortInfo info(SerialPort p) {
        String path = p.getSystemPortPath();
        String description = p.getPortDescription();
        return new SerialPortInfo(path == null || path.isEmpty() ? "/dev/" + p.getSystemPortName() : path,
                description == null ? "" : description.strip(),
                known(p.getVendorID()), known(p.getProductID()),
                Optional.ofNullable(p.getSerialNumber()).map(String::strip)
                        .filter(s -> !s.isEmpty() && !s.equalsIgnoreCase("Unknown")));
    }

    private static OptionalInt known(int id) {
        return id >= 0 ? OptionalInt.of(id) : OptionalInt.empty();
    }
}
