package io.mancom.tcp.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

import java.io.IOException;
import java.util.Locale;

/**
 * Classic BPF socket filters on a descriptor, through libc's {@code setsockopt} and
 * {@code getsockopt} (JNA): {@code SO_ATTACH_FILTER} to attach, {@code SO_GET_FILTER} to read the
 * attached program back. Neither needs a capability. Linux only; {@link #unavailable()} says why
 * not elsewhere.
 *
 * <p>Stateless; thread-safe. libc is loaded on first use, never at class load.
 */
public final class SocketFilter {
    // Linux, the same on x86-64 and arm64 (asm-generic/socket.h).
    private static final int SOL_SOCKET = 1;
    private static final int SO_ATTACH_FILTER = 26;
    private static final int SO_GET_FILTER = SO_ATTACH_FILTER;

    private SocketFilter() {
    }

    private interface LibC extends Library {
        int setsockopt(int fd, int level, int name, Pointer value, int length) throws LastErrorException;

        int getsockopt(int fd, int level, int name, Pointer value, IntByReference length) throws LastErrorException;
    }

    private static final class Holder {
        static final Object LIBC = load();

        private static Object load() {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
                return "not Linux (" + System.getProperty("os.name") + ")";
            }
            try {
                return Native.load("c", LibC.class);
            } catch (LinkageError | RuntimeException e) {
                return "libc not loadable through JNA (" + e + ")";
            }
        }
    }

    /** Why filters cannot be attached in this process, or null if they can. */
    public static String unavailable() {
        try {
            return Holder.LIBC instanceof LibC ? null : (String) Holder.LIBC;
        } catch (LinkageError e) { // JNA missing from the class path
            return "JNA is not available (" + e + ")";
        }
    }

    /**
     * Attaches {@code program} to socket {@code fd}; replaces a filter attached before.
     *
     * @throws IOException with the errno's meaning, if the kernel refuses it
     */
    static void attach(int fd, PeerFilterProgram program) throws IOException {
        LibC libc = libc();
        byte[] code = program.toBytes();
        Memory insns = new Memory(code.length);
        insns.write(0, code, 0, code.length);
        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the pointer is aligned.
        Memory fprog = new Memory(2L * Native.POINTER_SIZE);
        fprog.clear();
        fprog.setShort(0, (short) program.length());
        fprog.setPointer(Native.POINTER_SIZE, insns);
        try {
            libc.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, (int) fprog.size());
        } catch (LastErrorException e) {
            throw new IOException("setsockopt(SO_ATTACH_FILTER) failed: errno " + e.getErrorCode(), e);
        }
    }

    /**
     * The length in instructions of the classic filter attached to socket {@code fd}, 0 if none:
     * {@code getsockopt(SO_GET_FILTER)} with a zero length, which asks only for the length.
     */
    public static int attachedLength(int fd) throws IOException {
        LibC libc = libc();
        IntByReference len = new IntByReference(0);
        try {
            libc.getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, Pointer.NULL, len);
        } catch (LastErrorException e) {
            throw new IOException("getsockopt(SO_GET_FILTER) failed: errno " + e.getErrorCode(), e);
        }
        return len.getValue();
    }

    /** The attached classic program's instructions, 8 bytes each as {@code struct sock_filter}. */
    public static byte[] attached(int fd) throws IOException {
        int n = attachedLength(fd);
        if (n == 0) {
            return new byte[0];
        }
        LibC libc = libc();
        Memory buf = new Memory(8L * n);
        IntByReference len = new IntByReference(n);
        try {
            libc.getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, buf, len);
        } catch (LastErrorException e) {
            throw new IOException("getsockopt(SO_GET_FILTER) failed: errno " + e.getErrorCode(), e);
        }
        return buf.getByteArray(0, 8 * len.getValue());
    }

    private static LibC libc() throws IOException {
        String why = unavailable();
        if (why != null) {
            throw new IOException("socket filters are not available: " + why);
        }
        return (LibC) Holder.LIBC;
    }
}
