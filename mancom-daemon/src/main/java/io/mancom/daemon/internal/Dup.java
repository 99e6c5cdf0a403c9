package io.mancom.daemon.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;

import java.io.IOException;

/**
 * {@code dup(2)} through JNA, for handing a device line over: the daemon sends a duplicate of the
 * line's descriptor, which it closes once the message is written, so that a line closed meanwhile
 * (its descriptor number free for reuse) can never make the daemon send another file. Stateless.
 */
final class Dup {
    private static final LibC C = load();

    private Dup() {
    }

    interface LibC extends Library {
        int dup(int fd);
    }

    private static LibC load() {
        try {
            return Native.load("c", LibC.class);
        } catch (LinkageError e) {
            return null;
        }
    }

    /** A new descriptor for the open file {@code fd} refers to; the caller closes it. */
    static int dup(int fd) throws IOException {
        if (C == null) {
            throw new IOException("cannot duplicate fd " + fd + ": no libc through JNA");
        }
        int d = C.dup(fd);
        if (d < 0) {
            throw new IOException("dup(" + fd + ") failed: errno " + Native.getLastError());
        }
        return d;
    }
}
