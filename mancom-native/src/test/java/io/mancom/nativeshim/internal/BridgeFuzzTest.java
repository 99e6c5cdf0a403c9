package io.mancom.nativeshim.internal;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.mancom.ManCom;
import io.mancom.nativeshim.ErrorCode;
import io.mancom.testkit.TestManCom;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Fuzzes the C API's Java side, the {@link Bridge}, with what a C program may pass once
 * {@code mancom.c} has checked its arguments (non-null strings and buffers, lengths that fit, a
 * {@code which} of LOCAL or REMOTE, {@code n >= 0} poll items): any handle, any service name, any
 * timeout (kept short: the target must not wait), in any order. What must hold, as mancom.h
 * promises: no call throws; each returns a non-negative result or the negative code of a
 * {@link ErrorCode}, never {@code MANCOM_EINTERNAL}; a failed call leaves a message for
 * {@code mancom_last_error}.
 *
 * <p>One runtime serves every input (starting one per input would dominate the time): service
 * {@code echo} is a blocking TCP service on a free loopback port that the same runtime can dial.
 * The handles an input got are closed at its end. Callback registrations are left out: they need
 * C function pointers. Input: a sequence of calls drawn with a {@link FuzzedDataProvider}. Seeds:
 * {@code BridgeFuzzTestInputs/calls/} (docs/fuzzing.md).
 */
class BridgeFuzzTest {

    private static final String[] SERVICES = {"echo", "nosuch", "", "echo ", "ECHO"};
    /**
     * The longest timeout of a read, poll or await_ready: 0 (return at once) and a wait that runs
     * out are different paths, a longer wait is not; the inputs spent most of their time in such
     * waits at up to 5 ms (3 ms an input), and the CPU was idle meanwhile.
     */
    private static final int WAIT_MS = 1;
    private static ManCom mancom;
    private static Bridge bridge;

    private static synchronized Bridge bridge() {
        if (bridge == null) {
            mancom = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
            bridge = new Bridge(mancom);
            Runtime.getRuntime().addShutdownHook(new Thread(mancom::close));
        }
        return bridge;
    }

    @FuzzTest(maxDuration = "60s")
    void calls(FuzzedDataProvider in) {
        Bridge b = bridge();
        List<Long> handles = new ArrayList<>();
        try {
            for (int call = 0; call < 16 && in.remainingBytes() > 0; call++) {
                step(b, in, handles);
            }
        } finally {
            for (long h : handles) {
                b.close(h);
            }
        }
    }

    private static void step(Bridge b, FuzzedDataProvider in, List<Long> handles) {
        int op = in.consumeInt(0, 11);
        switch (op) {
            case 0 -> keep(handles, check("listen", b.listen(service(in), 0)));
            case 1 -> keep(handles, check("accept", b.accept(service(in), 0)));
            case 2 -> keep(handles, check("connect", b.connect(service(in), in.consumeInt(0, 200))));
            case 3 -> {
                int len = in.consumeInt(0, 64);
                Memory buf = new Memory(Math.max(1, len));
                check("read", b.read(handle(in, handles), buf, len, in.consumeInt(0, WAIT_MS)));
            }
            case 4 -> {
                byte[] data = in.consumeBytes(in.consumeInt(0, 64));
                Memory buf = new Memory(Math.max(1, data.length));
                buf.write(0, data, 0, data.length);
                check("write", b.write(handle(in, handles), buf, data.length));
            }
            case 5 -> check("shutdown_output", b.shutdownOutput(handle(in, handles)));
            case 6 -> check("close", b.close(handle(in, handles)));
            case 7 -> {
                int n = in.consumeInt(0, 4);
                Memory items = new Memory(16L * Math.max(1, n));
                items.clear();
                for (int i = 0; i < n; i++) {
                    items.setLong(16L * i, handle(in, handles));
                    items.setShort(16L * i + 8, in.consumeShort());
                }
                check("poll", b.poll(n == 0 ? Pointer.NULL : items, n, in.consumeInt(0, WAIT_MS)));
            }
            case 8 -> {
                Memory out = new Memory(800);
                out.clear();
                check("conn_endpoint", b.endpoint(handle(in, handles), in.consumeInt(0, 1), out));
            }
            case 9 -> check("unregister", b.unregister(in.consumeInt()));
            case 10 -> {
                int len = in.consumeInt(1, 64);
                Memory buf = new Memory(len);
                int n = Bridge.lastError(buf, len);
                if (n < 0 || n >= len) {
                    throw new AssertionError("mancom_last_error wrote " + n + " bytes into " + len);
                }
            }
            default -> check("await_ready", b.awaitReady(in.consumeInt(0, WAIT_MS)));
        }
    }

    private static String service(FuzzedDataProvider in) {
        return in.consumeBoolean() ? SERVICES[in.consumeInt(0, SERVICES.length - 1)] : in.consumeString(40);
    }

    /** A handle this input got, or any number (a stale, bogus or negative handle). */
    private static long handle(FuzzedDataProvider in, List<Long> handles) {
        if (!handles.isEmpty() && in.consumeBoolean()) {
            return handles.get(in.consumeInt(0, handles.size() - 1));
        }
        return in.consumeLong();
    }

    private static void keep(List<Long> handles, long result) {
        if (result > 0) {
            handles.add(result);
        }
    }

    private static long check(String fn, long result) {
        if (result >= 0) {
            return result;
        }
        if (result < Integer.MIN_VALUE || ErrorCode.ofCode((int) result).isEmpty()) {
            throw new AssertionError("mancom_" + fn + " returned " + result + ", which is no MANCOM_E* code");
        }
        if (result == ErrorCode.EINTERNAL.code()) {
            throw new AssertionError("mancom_" + fn + " failed internally: " + Errors.last());
        }
        if (Errors.last().isEmpty()) {
            throw new AssertionError("mancom_" + fn + " returned " + result + " without a message");
        }
        Errors.set("");
        return result;
    }
}
