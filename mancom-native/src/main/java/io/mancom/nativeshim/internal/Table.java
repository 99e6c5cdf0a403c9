package io.mancom.nativeshim.internal;

import com.sun.jna.Callback;
import com.sun.jna.CallbackThreadInitializer;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;

/**
 * The function table C calls through: {@code struct mancom_table} in mancom.c, field for field.
 * Each field is a JNA {@link Callback}; writing the structure turns them into C function
 * pointers. The table and its callbacks must stay strongly reachable for the life of the process
 * (JNA frees a callback's stub when the object is collected): {@link Bootstrap} keeps it in a
 * static field.
 *
 * <p>Every callback is registered with a {@link CallbackThreadInitializer} that attaches a C
 * thread as a daemon and does not detach it after the call: a C thread pays for attaching once,
 * not on every call (JNA detaches it when the thread ends).
 */
@Structure.FieldOrder({"shutdown", "await_ready", "register_acceptor", "register_data_receiver",
        "connect_async", "unregister", "listen", "accept", "connect", "read", "write", "close", "poll",
        "endpoint", "last_error", "set_error", "ping", "shutdown_output", "status_json", "set_certificates"})
public final class Table extends Structure {
    public interface IntFn extends Callback { int invoke(); }
    public interface IntIntFn extends Callback { int invoke(int a); }
    public interface RegisterAcceptorFn extends Callback { int invoke(String service, Pointer cb, Pointer user); }
    public interface RegisterReceiverFn extends Callback { int invoke(String service, Pointer data, Pointer close, Pointer user); }
    public interface ConnectAsyncFn extends Callback { int invoke(String service, Pointer open, Pointer data, Pointer close, Pointer user); }
    public interface ServiceFn extends Callback { long invoke(String service, int timeoutMs); }
    public interface ReadFn extends Callback { long invoke(long conn, Pointer buf, long len, int timeoutMs); }
    public interface WriteFn extends Callback { long invoke(long conn, Pointer buf, long len); }
    public interface CloseFn extends Callback { int invoke(long conn); }
    public interface PollFn extends Callback { int invoke(Pointer items, int n, int timeoutMs); }
    public interface EndpointFn extends Callback { int invoke(long conn, int which, Pointer out); }
    public interface LastErrorFn extends Callback { int invoke(Pointer buf, int len); }
    public interface SetErrorFn extends Callback { void invoke(String message); }
    public interface PingFn extends Callback { int invoke(Pointer fn, int n); }
    public interface StatusJsonFn extends Callback { int invoke(Pointer buf, long len); }
    public interface SetCertificatesFn extends Callback { int invoke(Pointer cb, Pointer user); }

    public IntFn shutdown;
    public IntIntFn await_ready;
    public RegisterAcceptorFn register_acceptor;
    public RegisterReceiverFn register_data_receiver;
    public ConnectAsyncFn connect_async;
    public IntIntFn unregister;
    public ServiceFn listen;
    public ServiceFn accept;
    public ServiceFn connect;
    public ReadFn read;
    public WriteFn write;
    public CloseFn close;
    public PollFn poll;
    public EndpointFn endpoint;
    public LastErrorFn last_error;
    public SetErrorFn set_error;
    public PingFn ping;
    public CloseFn shutdown_output; // added after the others: older layouts stay a prefix
    public StatusJsonFn status_json; // after the others, for the same reason (StatusJson, outside the Bridge)
    public SetCertificatesFn set_certificates; // last, for the same reason (NativeCertificates)

    /** A table whose every entry calls {@code b}, written to native memory. */
    static Table of(Bridge b) {
        Table t = new Table();
        t.shutdown = b::shutdown;
        t.await_ready = b::awaitReady;
        t.register_acceptor = b::registerAcceptor;
        t.register_data_receiver = b::registerDataReceiver;
        t.connect_async = b::connectAsync;
        t.unregister = b::unregister;
        t.listen = b::listen;
        t.accept = b::accept;
        t.connect = b::connect;
        t.read = b::read;
        t.write = b::write;
        t.close = b::close;
        t.poll = b::poll;
        t.endpoint = b::endpoint;
        t.last_error = Bridge::lastError;
        t.set_error = Errors::set;
        t.ping = Bridge::ping;
        t.shutdown_output = b::shutdownOutput;
        t.status_json = StatusJson::call;
        t.set_certificates = NativeCertificates::set;
        CallbackThreadInitializer attachOnce = new CallbackThreadInitializer(true, false, "mancom-c-caller");
        for (Callback cb : new Callback[] {t.shutdown, t.await_ready, t.register_acceptor, t.register_data_receiver,
                t.connect_async, t.unregister, t.listen, t.accept, t.connect, t.read, t.write, t.close, t.poll,
                t.endpoint, t.last_error, t.set_error, t.ping, t.shutdown_output, t.status_json, t.set_certificates}) {
            Native.setCallbackThreadInitializer(cb, attachOnce);
        }
        t.write();
        return t;
    }
}
