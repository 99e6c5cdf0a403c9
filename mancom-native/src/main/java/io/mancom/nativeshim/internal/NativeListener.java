package io.mancom.nativeshim.internal;

/**
 * A service served with the C blocking API, as {@code mancom_listen} hands it out: a handle that
 * {@code mancom_poll} watches for connections to accept and {@code mancom_close} ends. The
 * listening itself, the accept backlog ({@code blocking.accept-backlog}) and the accept queue's
 * readiness are the runtime's, shared with Java's {@code ManCom.accept} and {@code Poller}.
 *
 * <p>Thread-safe.
 */
final class NativeListener {
    final String service;
    volatile long handle;
    /** Set by mancom_close (or shutdown) before the runtime stops listening. */
    volatile boolean closed;

    NativeListener(String service) {
        this.service = service;
    }
}
