package io.mancom.nativeshim.internal;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;

/**
 * A callback of the C program, called through a JNA {@link Function}. While it runs, the thread
 * is marked as "in a C callback" so the API refuses blocking calls from it ({@link #inCallback}).
 */
final class CFunction {
    private static final Logger log = LoggerFactory.getLogger(CFunction.class);
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private static final ThreadLocal<Memory[]> SCRATCH = ThreadLocal.withInitial(() -> new Memory[1]);

    private final Function function;
    private final String what;

    private CFunction(Pointer p, String what) {
        this.function = Function.getFunction(p);
        this.what = what;
    }

    /** The function at {@code p}, or null for a NULL pointer. */
    static CFunction of(Pointer p, String what) {
        return p == null ? null : new CFunction(p, what);
    }

    /** Whether this thread is running a C callback now. */
    static boolean inCallback() {
        return DEPTH.get()[0] > 0;
    }

    void call(Object... args) {
        int[] depth = DEPTH.get();
        depth[0]++;
        try {
            function.invokeVoid(args);
        } catch (RuntimeException | Error e) {
            log.error("the C {} callback could not be called", what, e);
        } finally {
            depth[0]--;
        }
    }

    /**
     * The address of the buffer's remaining bytes: its own memory when it is direct, else a copy in
     * a per-thread scratch block (valid until this thread's next call).
     */
    static Pointer address(ByteBuffer data) {
        if (data.isDirect()) {
            Pointer base = Native.getDirectBufferPointer(data);
            return data.position() == 0 ? base : base.share(data.position());
        }
        int n = data.remaining();
        Memory[] holder = SCRATCH.get();
        if (holder[0] == null || holder[0].size() < n) {
            holder[0] = new Memory(Math.max(n, 64 * 1024));
        }
        holder[0].write(0, data.array(), data.arrayOffset() + data.position(), n);
        return holder[0];
    }
}
