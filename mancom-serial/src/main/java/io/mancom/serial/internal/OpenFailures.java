package io.mancom.serial.internal;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.serial.SerialPortInfo;
import io.mancom.serial.SerialPorts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * Turns "the port did not open" into a message a person can act on: which port, what is wrong,
 * and what to do. Every method builds the exception; none throws.
 */
final class OpenFailures {
    /** Entries of a folder listed beside a missing port, at most. */
    private static final int MAX_NEARBY = 20;
    /** Processes looked at when searching who holds a port, at most. */
    private static final int MAX_PROCESSES = 10_000;

    private final Supplier<List<SerialPortInfo>> ports;
    private final Path proc;
    private final Path etcGroup;

    OpenFailures() {
        this(SerialPorts::list, Path.of("/proc"), Path.of("/etc/group"));
    }

    /** For tests: where the port list, /proc and /etc/group come from. */
    OpenFailures(Supplier<List<SerialPortInfo>> ports, Path proc, Path etcGroup) {
        this.ports = ports;
        this.proc = proc;
        this.etcGroup = etcGroup;
    }

    /** The failure for what {@code errno} says about opening {@code device} (the path of the endpoint). */
    ManComException openFailed(String device, int errno) {
        Path path = Path.of(device);
        switch (errno) {
            case Errno.EACCES:
            case Errno.EPERM:
                return permissionDenied(device);
            case Errno.EAGAIN:
                return busy(device, "another program has it open and locked");
            case Errno.EBUSY:
                return busy(device, "another program opened it for exclusive use");
            case Errno.ENOENT:
                // jSerialComm reports 2 both for a missing file and for a port this JVM already has open.
                return Files.exists(path) ? busyHere(device) : noSuchPort(device);
            case Errno.ENXIO:
            case Errno.ENODEV:
            case Errno.EIO:
                return new ManComException(Reason.NO_DEVICE, "serial port " + device + realPath(path)
                        + " is there but no device answers behind it (" + Errno.describe(errno) + "): the adapter was "
                        + "unplugged, its driver is not loaded, or (for a pty) the other side is gone");
            case Errno.ENOTTY:
            case Errno.EINVAL:
                return new ManComException(Reason.IO, "cannot open " + device + realPath(path) + " as a serial port: "
                        + Errno.describe(errno) + ". Is it a serial device (a tty)? The line settings could not be applied");
            default:
                return new ManComException(Reason.IO, "cannot open serial port " + device + realPath(path) + ": " + Errno.describe(errno));
        }
    }

    /** The port's path does not exist: say so, and list the ports that do. */
    ManComException noSuchPort(String device) {
        Path path = Path.of(device);
        StringBuilder m = new StringBuilder("serial port ").append(device).append(" does not exist");
        if (Files.isSymbolicLink(path)) {
            try {
                m.append(" (it is a link to ").append(Files.readSymbolicLink(path)).append(", which is gone)");
            } catch (IOException ignored) {
                // the link vanished as we looked: the message stands without its target
            }
        }
        m.append(". ");
        List<String> known = new ArrayList<>();
        try {
            for (SerialPortInfo p : ports.get()) {
                known.add(p.describe());
            }
        } catch (RuntimeException | LinkageError e) {
            known.add("(the ports could not be listed: " + e + ")");
        }
        List<String> nearby = nearby(path);
        if (known.isEmpty() && nearby.isEmpty()) {
            m.append("No serial ports were found on this machine");
        } else {
            if (!known.isEmpty()) {
                m.append("Serial ports on this machine: ").append(String.join(", ", known));
            }
            if (!nearby.isEmpty()) {
                m.append(known.isEmpty() ? "" : "; ").append("devices in ").append(path.toAbsolutePath().getParent())
                        .append(": ").append(String.join(", ", nearby));
            }
        }
        m.append(". Plug the device in (`dmesg` shows what the kernel saw), or fix the endpoint's device path");
        return new ManComException(Reason.NO_DEVICE, m.toString());
    }

    /**
     * Permission denied: name the owner, the group and the mode, and say which group grants
     * access and how to join it. Reads the device's attributes, so call it for a device that exists.
     */
    ManComException permissionDenied(String device) {
        Path path = Path.of(device);
        StringBuilder m = new StringBuilder("permission denied opening serial port ").append(device).append(realPath(path));
        PosixFileAttributes at;
        int gid;
        try {
            at = Files.readAttributes(path, PosixFileAttributes.class);
            gid = (Integer) Files.getAttribute(path, "unix:gid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return new ManComException(Reason.PERMISSION_DENIED, m.append(". Check the device's owner and mode with `ls -l ")
                    .append(device).append("` (").append(e.getMessage()).append(')').toString());
        }
        String owner = at.owner().getName();
        String group = at.group().getName();
        Set<PosixFilePermission> perms = at.permissions();
        String user = System.getProperty("user.name", "your user");
        m.append(": it belongs to user '").append(owner).append("' and group '").append(group)
                .append("' with mode ").append(PosixFilePermissions.toString(perms)).append(". ");
        if (perms.contains(PosixFilePermission.GROUP_READ) && perms.contains(PosixFilePermission.GROUP_WRITE)) {
            if (processGroups().contains(gid)) {
                m.append("This program is in group '").append(group).append("', so something else denies access "
                        + "(an ACL, SELinux or AppArmor): see `getfacl ").append(device).append("` and the system log");
            } else if (groupMembers(group).contains(user)) {
                m.append("User '").append(user).append("' was added to group '").append(group)
                        .append("' after this session started: log out and in again (or run `newgrp ").append(group).append("`)");
            } else {
                m.append("Members of group '").append(group).append("' may use it: add user '").append(user)
                        .append("' with `sudo usermod -aG ").append(group).append(' ').append(user)
                        .append("`, then log out and in again");
            }
        } else {
            m.append("Its group may not read and write it, so only '").append(owner).append("' can open it: ask an "
                    + "administrator to grant access (for example a udev rule with GROUP=\"dialout\", MODE=\"0660\")");
        }
        return new ManComException(Reason.PERMISSION_DENIED, m.toString());
    }

    /** The port is held by someone else; say who, when /proc tells. */
    ManComException busy(String device, String what) {
        Path path = Path.of(device);
        List<String> holders = holders(path);
        long self = ProcessHandle.current().pid();
        if (holders.stream().anyMatch(h -> h.startsWith("pid " + self + " "))) {
            return busyHere(device);
        }
        return new ManComException(Reason.BUSY, "serial port " + device + realPath(path) + " is busy: " + what
                + (holders.isEmpty() ? "" : " (" + String.join(", ", holders) + ")")
                + ". A serial port has one user at a time: close the other program, or use another port");
    }

    /** The port is open in this very JVM already (another service or connection has it). */
    ManComException busyHere(String device) {
        return new ManComException(Reason.BUSY, "serial port " + device + realPath(Path.of(device))
                + " is busy: this program has it open already (another service or connection uses it). "
                + "A serial port has one user at a time: give each service its own port");
    }

    /** {@code " (/dev/pts/3)"} when {@code path} is a link, else empty. */
    static String realPath(Path path) {
        try {
            Path real = path.toRealPath();
            return real.equals(path.toAbsolutePath()) ? "" : " (" + real + ")";
        } catch (IOException | SecurityException e) {
            return "";
        }
    }

    // ---- looking around ----

    /** Devices beside a missing path, when it is not in /dev itself (which the port list covers). */
    private static List<String> nearby(Path path) {
        Path dir = path.toAbsolutePath().getParent();
        if (dir == null || dir.equals(Path.of("/dev")) || !Files.isDirectory(dir)) {
            return List.of();
        }
        Set<String> found = new TreeSet<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                if (found.size() >= MAX_NEARBY) {
                    break;
                }
                // ptmx, in /dev/pts, makes new ptys; it is not a line one could open as a port
                if (!isCharDevice(e) || e.getFileName().toString().equals("ptmx")) {
                    continue;
                }
                if (Files.isSymbolicLink(e)) {
                    found.add(e + " -> " + e.toRealPath());
                } else {
                    found.add(e.toString());
                }
            }
        } catch (IOException | SecurityException e) {
            return List.of();
        }
        return new ArrayList<>(found);
    }

    private static boolean isCharDevice(Path p) {
        try {
            Object mode = Files.getAttribute(p, "unix:mode");
            // S_IFMT / S_IFCHR
            return mode instanceof Integer m && (m & 0170000) == 0020000;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            return false;
        }
    }

    /**
     * Who holds {@code path}: first the flock owners in /proc/locks (what jSerialComm and most
     * serial programs take), else the processes with it open; as {@code "pid N (name)"}.
     */
    List<String> holders(Path path) {
        Set<String> out = new LinkedHashSet<>();
        try {
            long ino = ((Number) Files.getAttribute(path, "unix:ino")).longValue();
            long dev = ((Number) Files.getAttribute(path, "unix:dev")).longValue();
            String devId = String.format(Locale.ROOT, "%02x:%02x:%d", major(dev), minor(dev), ino);
            for (String line : Files.readAllLines(proc.resolve("locks"), StandardCharsets.US_ASCII)) {
                // 1: FLOCK  ADVISORY  WRITE 1234 00:05:3 0 EOF
                String[] f = line.trim().split("\\s+");
                if (f.length >= 6 && f[1].equals("FLOCK") && f[5].equals(devId)) {
                    out.add(describePid(f[4]));
                }
            }
            if (out.isEmpty()) {
                out.addAll(openers(path.toRealPath()));
            }
        } catch (IOException | RuntimeException e) {
            // Best effort: the message is still right without the names.
        }
        return new ArrayList<>(out);
    }

    private List<String> openers(Path real) throws IOException {
        List<String> out = new ArrayList<>();
        int seen = 0;
        try (DirectoryStream<Path> pids = Files.newDirectoryStream(proc, "[0-9]*")) {
            for (Path pid : pids) {
                if (++seen > MAX_PROCESSES) {
                    break;
                }
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(pid.resolve("fd"))) {
                    for (Path fd : fds) {
                        if (real.equals(Files.readSymbolicLink(fd))) {
                            out.add(describePid(pid.getFileName().toString()));
                            break;
                        }
                    }
                } catch (IOException | SecurityException e) {
                    // another user's process, or one that just exited
                }
            }
        }
        return out;
    }

    private String describePid(String pid) {
        try {
            return "pid " + pid + " (" + Files.readString(proc.resolve(pid).resolve("comm"), StandardCharsets.UTF_8).strip() + ")";
        } catch (IOException | RuntimeException e) {
            return "pid " + pid;
        }
    }

    private static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    private static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }

    /** The groups of this process, effective and supplementary (from /proc/self/status); empty if unknown. */
    private Set<Integer> processGroups() {
        Set<Integer> out = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(proc.resolve("self").resolve("status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("Gid:")) {
                    String[] ids = line.substring(4).trim().split("\\s+");
                    if (ids.length >= 2) {
                        out.add(Integer.parseInt(ids[1])); // the effective group
                    }
                }
                if (line.startsWith("Groups:")) {
                    for (String g : line.substring(7).trim().split("\\s+")) {
                        if (!g.isEmpty()) {
                            out.add(Integer.parseInt(g));
                        }
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown: the advice to join the group is then still right
        }
        return out;
    }

    /** The users /etc/group lists as members of {@code group}. */
    private Set<String> groupMembers(String group) {
        Set<String> out = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(etcGroup, StandardCharsets.UTF_8)) {
                String[] f = line.split(":", -1);
                if (f.length >= 4 && f[0].equals(group) && !f[3].isEmpty()) {
                    out.addAll(List.of(f[3].split(",")));
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return out;
    }
}
