package io.mancom;

import java.io.IOException;
import java.util.Objects;

/**
 * A failure of communication, with a {@link Reason} a program can switch on and a message a person
 * can act on (what happened, and what to do about it).
 *
 * <p>Thrown by the blocking API, used to fail the futures of the callback API, and passed as the
 * cause of {@link DataReceiver#onClose}.
 */
public class ManComException extends IOException {

    /**
     * Why an operation failed. The C API maps each reason to one {@code MANCOM_E...} code.
     *
     * <p>Two reasons are C-only: Java never puts them in a {@code ManComException}, because in
     * Java these are mistakes of the program or its configuration, reported unchecked where they
     * are made, not failures of communication to catch. They exist so that C, which has only
     * error codes, gets a distinct code for each: {@link #UNKNOWN_SERVICE} (Java: a
     * {@link ConfigException} naming the known services) and {@link #WRONG_MODE} (Java: an
     * {@link IllegalStateException}). A {@code switch} over reasons in Java never sees them.
     */
    public enum Reason {
        /**
         * The configuration is invalid ({@link ConfigException} says where). Java throws the
         * {@link ConfigException} itself from {@link ManCom#start()} and the registering calls;
         * this reason wraps it where a failure must be a {@code ManComException}: a failed
         * {@code connectAsync} future, a device opener's bad settings.
         */
        CONFIG,
        /**
         * No service of that name is configured. C only ({@code MANCOM_ENOSERVICE}): Java throws
         * a {@link ConfigException} that lists the configured services.
         */
        UNKNOWN_SERVICE,
        /** No transport is installed for the endpoint's scheme. */
        NO_TRANSPORT,
        /**
         * The service is served another way (callbacks versus blocking accept). C only
         * ({@code MANCOM_EWRONGMODE}): Java throws an {@link IllegalStateException}, as
         * {@link ManCom} documents for each registering call.
         */
        WRONG_MODE,
        /** The local address is taken by another socket or process. */
        ADDRESS_IN_USE,
        /** The peer refused or could not be reached. */
        UNREACHABLE,
        /** The operation did not finish in time. */
        TIMEOUT,
        /** The connection or the runtime is closed. */
        CLOSED,
        /** The peer reset the connection or the link failed. */
        LINK_FAILED,
        /** The write queue is at its hard limit. */
        WRITE_QUEUE_FULL,
        /** The device is not there. */
        NO_DEVICE,
        /** The operating system denied access. */
        PERMISSION_DENIED,
        /** The device is held by another program. */
        BUSY,
        /** The peer broke the protocol. */
        PROTOCOL,
        /** Not ready: the service is not bound or opened yet. */
        NOT_READY,
        /** Any other I/O failure. */
        IO,
        /**
         * No byte went either way for the service's {@code tcp.idle-timeout}: the runtime closed
         * the connection (the cause {@link DataReceiver#onClose} gets).
         */
        IDLE_TIMEOUT,
        /**
         * No byte arrived for the service's {@code tcp.read-timeout}: the runtime closed the
         * connection (the cause {@link DataReceiver#onClose} gets).
         */
        READ_TIMEOUT
    }

    private final Reason reason;

    public ManComException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public ManComException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Why the operation failed. */
    public Reason reason() {
        return reason;
    }
}
