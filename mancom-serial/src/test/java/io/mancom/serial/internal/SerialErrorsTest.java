package io.mancom.serial.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.device.DeviceLink;
import io.mancom.serial.SerialPortInfo;
import io.mancom.serial.SerialPorts;
import io.mancom.testkit.PtyPair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Every way opening a port fails, and what the message tells the user. */
class SerialErrorsTest {
    @TempDir
    Path dir;
    private PtyPair pty;
    private final List<DeviceLink> links = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        PtyPair.require();
        pty = PtyPair.start(dir);
    }

    @AfterEach
    void stop() throws IOException {
        links.forEach(DeviceLink::close);
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        if (pty != null) {
            pty.close();
        }
    }

    private static ManComException openFails(String uri) {
        try {
            DeviceLink l = new SerialOpener(false).open(EndPoint.parse(uri));
            l.close();
            throw new AssertionError(uri + " opened");
        } catch (ManComException e) {
            return e;
        }
    }

    @Test
    void noSuchPortListsThePortsThatExistAndTheDevicesBesideIt() {
        ManComException e = openFails("serial://" + dir.resolve("c"));
        assertThat(e.reason()).isEqualTo(Reason.NO_DEVICE);
        assertThat(e.getMessage())
                .startsWith("serial port " + dir.resolve("c") + " does not exist. ")
                .containsAnyOf("Serial ports on this machine: ", "No serial ports were found")
                .contains("devices in " + dir + ": " + pty.a() + " -> /dev/pts/")
                .contains(pty.b() + " -> /dev/pts/")
                .endsWith("Plug the device in (`dmesg` shows what the kernel saw), or fix the endpoint's device path");
        for (SerialPortInfo p : SerialPorts.list()) {
            assertThat(e.getMessage()).contains(p.path());
        }
    }

    @Test
    void noSuchPortFormatsUsbAdapters() {
        OpenFailures f = new OpenFailures(() -> List.of(
                new SerialPortInfo("/dev/ttyS0", "Physical Port S0", OptionalInt.empty(), OptionalInt.empty(), Optional.empty()),
                new SerialPortInfo("/dev/ttyUSB0", "FT232R USB UART", OptionalInt.of(0x0403), OptionalInt.of(0x6001), Optional.of("A9XK"))),
                Path.of("/proc"), Path.of("/etc/group"));
        assertThat(f.noSuchPort("/dev/ttyUSB7").getMessage()).isEqualTo("serial port /dev/ttyUSB7 does not exist. "
                + "Serial ports on this machine: /dev/ttyS0 (Physical Port S0), /dev/ttyUSB0 (FT232R USB UART, USB 0403:6001). "
                + "Plug the device in (`dmesg` shows what the kernel saw), or fix the endpoint's device path");
        OpenFailures none = new OpenFailures(List::of, Path.of("/proc"), Path.of("/etc/group"));
        assertThat(none.noSuchPort("/dev/ttyACM0").getMessage()).contains("No serial ports were found on this machine");
    }

    @Test
    void aPtyPathThatIsGoneListsThePtysThatAreThere() throws IOException {
        ManComException e = openFails("serial:///dev/pts/99999");
        assertThat(e.reason()).isEqualTo(Reason.NO_DEVICE);
        assertThat(e.getMessage()).contains("/dev/pts/99999 does not exist")
                .contains("devices in /dev/pts: ").contains(pty.deviceA().toString()).doesNotContain("ptmx");
    }

    @Test
    void aDanglingLinkSaysWhereItPoints() throws IOException {
        Path gone = Files.createSymbolicLink(dir.resolve("gone"), Path.of("/dev/pts/99998"));
        ManComException e = openFails("serial://" + gone);
        assertThat(e.reason()).isEqualTo(Reason.NO_DEVICE);
        assertThat(e.getMessage()).contains(gone + " does not exist (it is a link to /dev/pts/99998, which is gone)");
    }

    @Test
    void aPortOpenInThisProgramIsBusy() throws Exception {
        links.add(new SerialOpener(false).open(EndPoint.parse("serial://" + pty.a())));
        ManComException e = openFails("serial://" + pty.a());
        assertThat(e.reason()).isEqualTo(Reason.BUSY);
        assertThat(e.getMessage()).isEqualTo("serial port " + pty.a() + " (" + pty.deviceA() + ") is busy: this program "
                + "has it open already (another service or connection uses it). A serial port has one user at a time: "
                + "give each service its own port");
    }

    @Test
    void aPortLockedByAnotherProgramIsBusyAndTheMessageNamesIt() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/flock")), "flock(1) is not installed");
        // flock(1) takes the same lock jSerialComm takes (and minicom, screen, ... hold the port open).
        Process holder = new ProcessBuilder("flock", "-x", pty.a().toString(), "-c", "echo locked; exec sleep 600")
                .redirectErrorStream(true).start();
        processes.add(holder);
        BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("locked");
        ManComException e = openFails("serial://" + pty.a());
        assertThat(e.reason()).isEqualTo(Reason.BUSY);
        assertThat(e.getMessage()).isEqualTo("serial port " + pty.a() + " (" + pty.deviceA() + ") is busy: another "
                + "program has it open and locked (pid " + holder.pid() + " (flock)). A serial port has one user at a "
                + "time: close the other program, or use another port");
    }

    @Test
    void permissionDeniedNamesTheGroupThatGrantsAccess() throws Exception {
        Path device = pty.deviceA();
        GroupPrincipal dialout = device.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("dialout");
        Files.getFileAttributeView(device, java.nio.file.attribute.PosixFileAttributeView.class).setGroup(dialout);
        Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-rw----"));
        String user = System.getProperty("user.name");
        // The denial itself needs a user outside the group (below); the message is the same
        // whichever check denied access, and is built from the device's real attributes.
        ManComException e = new OpenFailures().permissionDenied(pty.a().toString());
        assertThat(e.reason()).isEqualTo(Reason.PERMISSION_DENIED);
        assertThat(e.getMessage()).isEqualTo("permission denied opening serial port " + pty.a() + " (" + device
                + "): it belongs to user 'root' and group 'dialout' with mode rw-rw----. Members of group 'dialout' may "
                + "use it: add user '" + user + "' with `sudo usermod -aG dialout " + user + "`, then log out and in again");

        Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-------"));
        assertThat(new OpenFailures().permissionDenied(pty.a().toString()).getMessage())
                .endsWith("with mode rw-------. Its group may not read and write it, so only 'root' can open it: ask an "
                        + "administrator to grant access (for example a udev rule with GROUP=\"dialout\", MODE=\"0660\")");
    }

    @Test
    void permissionDeniedForARealUserOutsideTheGroup() throws Exception {
        // Root opens every device, so the real denial is provoked by running the open as 'nobody'.
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to switch to user nobody");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv(1) is not installed");
        Path device = pty.deviceA();
        GroupPrincipal dialout = device.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("dialout");
        Files.getFileAttributeView(device, java.nio.file.attribute.PosixFileAttributeView.class).setGroup(dialout);
        Files.setPosixFilePermissions(device, PosixFilePermissions.fromString("rw-rw----"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));

        String cp = readableCopyOfClassPath();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                java.toString(), "-XX:-UsePerfData", "-Duser.home=/tmp", "-cp", cp,
                PermissionProbe.class.getName(), "serial://" + pty.a())
                .redirectErrorStream(true).start();
        processes.add(p);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(out).startsWith("PERMISSION_DENIED\n");
        assertThat(out).contains("permission denied opening serial port " + pty.a() + " (" + device + "): it belongs to "
                + "user 'root' and group 'dialout' with mode rw-rw----. Members of group 'dialout' may use it: add user "
                + "'nobody' with `sudo usermod -aG dialout nobody`, then log out and in again");
    }

    /** The test class path, copied where user nobody can read it (the build's is under /root). */
    private String readableCopyOfClassPath() throws IOException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path copy = Files.createDirectories(dir.resolve("classpath"));
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String entry : cp.split(java.io.File.pathSeparator)) {
            Path src = Path.of(entry);
            if (!Files.exists(src)) {
                continue;
            }
            Path dst = copy.resolve(i++ + "-" + src.getFileName());
            if (Files.isDirectory(src)) {
                try (Stream<Path> files = Files.walk(src)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Path t = dst.resolve(src.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(t);
                        } else {
                            Files.copy(f, t, StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            } else {
                Files.copy(src, dst);
            }
            entries.add(dst.toString());
        }
        try (Stream<Path> all = Files.walk(copy)) {
            for (Path f : (Iterable<Path>) all::iterator) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    @Test
    void theErrnoOfAFailedOpenIsExplained() {
        OpenFailures f = new OpenFailures();
        assertThat(f.openFailed("/dev/ttyUSB0", Errno.ENXIO)).satisfies(e -> {
            assertThat(e.reason()).isEqualTo(Reason.NO_DEVICE);
            assertThat(e.getMessage()).contains("ENXIO (No such device or address)").contains("unplugged");
        });
        assertThat(f.openFailed("/dev/null", Errno.ENOTTY)).satisfies(e -> {
            assertThat(e.reason()).isEqualTo(Reason.IO);
            assertThat(e.getMessage()).isEqualTo("cannot open /dev/null as a serial port: ENOTTY (Inappropriate ioctl "
                    + "for device). Is it a serial device (a tty)? The line settings could not be applied");
        });
        assertThat(f.openFailed("/dev/ttyS9", 77).getMessage()).isEqualTo("cannot open serial port /dev/ttyS9: error 77");
    }

    @Test
    void aFileThatIsNotATerminalIsNotASerialPort() throws IOException {
        Path plain = Files.writeString(dir.resolve("plain.txt"), "not a tty");
        ManComException e = openFails("serial://" + plain);
        assertThat(e.getMessage()).contains(plain + " as a serial port").contains("Is it a serial device (a tty)?");
    }

    @Test
    void portsAreListedWithPathsAndDescriptions() {
        List<SerialPortInfo> ports = SerialPorts.list();
        assertThat(ports).isSortedAccordingTo(java.util.Comparator.comparing(SerialPortInfo::path));
        for (SerialPortInfo p : ports) {
            assertThat(p.path()).startsWith("/dev/");
            assertThat(p.describe()).startsWith(p.path());
        }
        SerialPortInfo usb = new SerialPortInfo("/dev/ttyACM0", "", OptionalInt.of(0x16c0), OptionalInt.of(0x05dc), Optional.empty());
        assertThat(usb.usbId()).contains("16c0:05dc");
        assertThat(usb.describe()).isEqualTo("/dev/ttyACM0 (USB 16c0:05dc)");
    }
}
