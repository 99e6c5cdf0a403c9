package io.mancom.nativeshim.internal;

import com.sun.jna.Pointer;
import io.mancom.Connection;
import io.mancom.DataReceiver;

import java.nio.ByteBuffer;
import java.util.function.Function;

/**
 * Routes a callback service's events (or a {@code mancom_connect_async} connection's) to the C
 * program's functions. Runs on the connection's event loop, as every {@link DataReceiver} does;
 * the buffer handed to {@code on_data} is lent for the call only.
 */
final class CallbackReceiver implements DataReceiver {
    private final Function<Connection, NativeConnection> entries;
    final CFunction onData;
    final CFunction onClose;
    final Pointer user;
    volatile CFunction onOpen;
    private volatile boolean announced;

    CallbackReceiver(Function<Connection, NativeConnection> entries, CFunction onData,
                     CFunction onClose, Pointer user) {
        this.entries = entries;
        this.onData = onData;
        this.onClose = onClose;
        this.user = user;
    }

    /** connect_async: on_open runs once, before the first on_data. */
    void opened(Connection c) {
        NativeConnection n = entries.apply(c);
        CFunction open = onOpen;
        if (open == null || announced) {
            return;
        }
        synchronized (this) {
            if (announced) {
                return;
            }
            announced = true;
        }
        open.call(n.handle, user);
    }

    @Override
    public void onData(Connection c, ByteBuffer data) {
        NativeConnection n = entries.apply(c);
        if (onOpen != null && !announced) {
            opened(c);
        }
        Pointer address = CFunction.address(data);
        n.lend(data, Pointer.nativeValue(address));
        try {
            onData.call(n.handleBox(), address, (long) data.remaining(), user);
        } finally {
            n.endLoan();
        }
    }

    @Override
    public void onClose(Connection c, Throwable cause) {
        NativeConnection n = entries.apply(c);
        if (onOpen != null && !announced) {
            opened(c);
        }
        if (onClose != null) {
            int code = cause == null ? 0 : Errors.fail(cause);
            onClose.call(n.handle, code, user);
        }
    }
}
