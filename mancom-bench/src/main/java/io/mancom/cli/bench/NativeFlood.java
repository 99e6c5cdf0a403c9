package io.mancom.cli.bench;

import com.sun.jna.Native;

import java.util.Arrays;
import java.util.Locale;

/**
 * The flood of {@code bench flood} through libc directly (JNA direct mapping), so that the
 * generator costs the shared CPUs as little as a SYN can: a fixed set of non-blocking sockets bound
 * to 127.0.0.2, each reused for attempt after attempt. An attempt on a socket first dissolves the
 * socket's previous attempt with {@code connect(AF_UNSPEC)} (a pending one is dropped, an
 * established one reset, so neither leaves TIME_WAIT) and then connects again: the kernel gives it
 * a fresh ephemeral port, so every attempt is a new SYN from a new port, as from a new socket. Three
 * to four system calls an attempt, against about eight and a Java channel object for
 * {@code SocketChannel.open ... close}.
 *
 * <p>Paced at {@code rate} attempts a second on one thread: it catches up to {@code elapsed x rate}
 * every millisecond, so the rate is the one asked for unless the thread cannot keep up, which
 * {@link #attempts()} over the phase's length shows. Linux only (the constants are those of
 * x86-64 and arm64); {@link #unavailable()} says why not.
 *
 * <p>Threading: starts its own thread; the counters may be read from any thread; {@link #close()}
 * stops the thread, which closes its sockets.
 */
final class NativeFlood extends FloodBenchCommand.Flooder {
    private static final int AF_INET = 2;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOL_SOCKET = 1;
    private static final int SO_ERROR = 4;
    private static final int EINPROGRESS = 115;
    private static final int ECONNRESET = 104;
    /** Sockets in rotation: an attempt stays pending for {@code SOCKETS / rate} seconds (32 ms at 8,000/s). */
    private static final int SOCKETS = 256;

    /** libc, registered on first use (direct mapping: no proxy or reflection per call). */
    private static final class C {
        static final String UNAVAILABLE = register();

        private static String register() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                return "not Linux";
            }
            try {
                Native.register(C.class, "c");
                return null;
            } catch (LinkageError | RuntimeException e) {
                return "libc not loadable through JNA (" + e + ")";
            }
        }

        static native int socket(int domain, int type, int protocol);

        static native int bind(int fd, byte[] addr, int length);

        static native int connect(int fd, byte[] addr, int length);

        static native int getpeername(int fd, byte[] addr, int[] length);

        static native int getsockopt(int fd, int level, int name, int[] value, int[] length);

        static native int close(int fd);
    }

    /** Why this flooder cannot run here, or null if it can. */
    static String unavailable() {
        try {
            return C.UNAVAILABLE;
        } catch (LinkageError e) {
            return "JNA is not available (" + e + ")";
        }
    }

    NativeFlood(int port, int rate) {
        byte[] target = sockaddr(new byte[] {127, 0, 0, 1}, port);
        byte[] source = sockaddr(new byte[] {127, 0, 0, 2}, 0);
        byte[] unspec = new byte[16];
        start(() -> run(target, source, unspec, rate));
    }

    private void run(byte[] target, byte[] source, byte[] unspec, int rate) {
        int[] fds = new int[SOCKETS];
        Arrays.fill(fds, -1);
        byte[] peer = new byte[16];
        int[] len = new int[1];
        int[] err = new int[1];
        long start = System.nanoTime();
        int next = 0;
        try {
            while (!stop.get()) {
                long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
                while (attempts.get() < due && !stop.get()) {
                    int fd = fds[next];
                    if (fd >= 0) {
                        len[0] = peer.length;
                        if (C.getpeername(fd, peer, len) == 0) {
                            completed.increment(); // the handshake completed: accepted by the kernel
                        } else {
                            len[0] = 4;
                            if (C.getsockopt(fd, SOL_SOCKET, SO_ERROR, err, len) == 0 && err[0] == ECONNRESET) {
                                completed.increment(); // reset by the server after accept
                            }
                        }
                        C.connect(fd, unspec, unspec.length);
                    } else {
                        fd = open(source);
                        fds[next] = fd;
                    }
                    if (fd >= 0 && C.connect(fd, target, target.length) != 0 && Native.getLastError() != EINPROGRESS) {
                        // Refused at once, or the socket is unusable: start the slot afresh next time.
                        failed.increment();
                        C.close(fd);
                        fds[next] = -1;
                    } else if (fd < 0) {
                        failed.increment();
                    }
                    attempts.incrementAndGet();
                    next = (next + 1) % SOCKETS;
                }
                BenchKit.sleepNanos(1_000_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            for (int fd : fds) {
                if (fd >= 0) {
                    C.close(fd);
                }
            }
        }
    }

    /** A non-blocking TCP socket bound to {@code source}, or -1. */
    private static int open(byte[] source) {
        int fd = C.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd >= 0 && C.bind(fd, source, source.length) != 0) {
            C.close(fd);
            return -1;
        }
        return fd;
    }

    /** A {@code struct sockaddr_in}: family in host order (little-endian here), port and address in network order. */
    private static byte[] sockaddr(byte[] ip, int port) {
        byte[] a = new byte[16];
        a[0] = (byte) AF_INET;
        a[2] = (byte) (port >> 8);
        a[3] = (byte) port;
        System.arraycopy(ip, 0, a, 4, 4);
        return a;
    }
}
