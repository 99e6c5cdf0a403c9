package io.mancom.serial.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the file descriptor of a port jSerialComm has just opened, which it does not expose, so
 * that the event loop can watch it (see {@link io.mancom.core.spi.device.DeviceLink#descriptor()}).
 *
 * <p>How: on Linux, {@code /proc/self/fd} links every open descriptor to its file; the one
 * wanted points to the device's real path and is non-blocking ({@code O_NONBLOCK} in
 * {@code /proc/self/fdinfo}, as jSerialComm opens ports). jSerialComm also holds an exclusive
 * {@code flock} on it, so no other jSerialComm port in this process has the same device open.
 * Anything ambiguous (another non-blocking descriptor of the same device, opened by the
 * application some other way) or unreadable (no {@code /proc}, another OS) gives -1, and the
 * line is served by a reader and a writer thread as before: slower, never wrong.
 */
final class OpenDescriptor {
    /** {@code O_NONBLOCK} on Linux, as {@code /proc/self/fdinfo} prints flags: octal. */
    private static final int O_NONBLOCK = 04000;
    private static final Path FDS = Path.of("/proc/self/fd");

    private OpenDescriptor() {
    }

    /** The one non-blocking descriptor this process has open on {@code device}, or -1. */
    static int find(String device) {
        Path real;
        try {
            real = Path.of(device).toRealPath();
        } catch (IOException e) {
            return -1;
        }
        int found = -1;
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(FDS)) {
            for (Path link : fds) {
                int fd;
                try {
                    fd = Integer.parseInt(link.getFileName().toString());
                    if (!Files.readSymbolicLink(link).equals(real) || !nonBlocking(fd)) {
                        continue;
                    }
                } catch (IOException | NumberFormatException e) {
                    continue; // closed meanwhile (the directory stream's own descriptor, another thread's file)
                }
                if (found >= 0) {
                    return -1; // two candidates: cannot tell which one is the port's
                }
                found = fd;
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return found;
    }

    private static boolean nonBlocking(int fd) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return (Integer.parseInt(line.substring("flags:".length()).strip(), 8) & O_NONBLOCK) != 0;
            }
        }
        return false;
    }
}
