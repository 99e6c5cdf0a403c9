package io.mancom.daemon.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;

/**
 * The two descriptor calls the daemon needs that Netty does not offer, through one JNA binding of
 * {@code fcntl(2)} (Linux values). Stateless; the library is bound once, when first used.
 * <ul>
 *   <li>{@link #setNonBlocking}: for the listening socket systemd passes, which it hands over
 *       blocking unless the unit says {@code NonBlocking=yes} (Netty's epoll loop would then
 *       block in {@code accept()} once the queue is empty);</li>
 *   <li>{@link #dup}: for handing a device line over, the daemon sends a duplicate of the line's
 *       descriptor and closes it once the message is written, so that a line closed meanwhile
 *       (its number free for reuse) can never make the daemon send another file.</li>
 * </ul>
 */
final class Descriptors {
    private static final int F_DUPFD_CLOEXEC = 1030;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 04000;

    private Descriptors() {
    }

    interface LibC extends Library {
        int fcntl(int fd, int cmd, int arg);
    }

    /** Bound on first use (a nested class: loading it loads the library). */
    private static final class Bound {
        static final LibC C = load();

        private static LibC load() {
            try {
                return Native.load("c", LibC.class);
            } catch (LinkageError e) {
                return null;
            }
        }
    }

    private static LibC libc(String what, int fd) throws IOException {
        LibC c = Bound.C;
        if (c == null) {
            throw new IOException("cannot " + what + " fd " + fd + ": no libc through JNA");
        }
        return c;
    }

    /** Sets {@code O_NONBLOCK} on {@code fd}. */
    static void setNonBlocking(int fd) throws IOException {
        LibC c = libc("make non-blocking", fd);
        int flags = c.fcntl(fd, F_GETFL, 0);
        if (flags < 0 || c.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            throw new IOException("cannot make fd " + fd + " non-blocking: errno " + Native.getLastError()
                    + " (is it open? LISTEN_FDS says systemd passed it)");
        }
    }

    /** A new descriptor (close-on-exec) for the open file {@code fd} refers to; the caller closes it. */
    static int dup(int fd) throws IOException {
        int d = libc("duplicate", fd).fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (d < 0) {
            throw new IOException("dup(" + fd + ") failed: errno " + Native.getLastError());
        }
        return d;
    }
}
