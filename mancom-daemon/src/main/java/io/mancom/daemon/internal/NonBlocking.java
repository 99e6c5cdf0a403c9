package io.mancom.daemon.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;

/**
 * {@code fcntl(fd, F_SETFL, flags | O_NONBLOCK)} through JNA, for the listening socket systemd
 * passes: systemd hands it over blocking unless the unit says {@code NonBlocking=yes}, and Netty's
 * epoll loop would then block in {@code accept()} once the queue is empty. Linux values. Stateless.
 */
final class NonBlocking {
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;
    private static final int O_NONBLOCK = 04000;

    private NonBlocking() {
    }

    interface LibC extends Library {
        int fcntl(int fd, int cmd, int arg);
    }

    static void set(int fd) throws IOException {
        LibC c;
        try {
            c = Native.load("c", LibC.class);
        } catch (LinkageError e) {
            throw new IOException("cannot make fd " + fd + " non-blocking (no libc through JNA): " + e, e);
        }
        int flags = c.fcntl(fd, F_GETFL, 0);
        if (flags < 0 || c.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
            throw new IOException("cannot make fd " + fd + " non-blocking: errno " + Native.getLastError()
                    + " (is it open? LISTEN_FDS says systemd passed it)");
        }
    }
}
