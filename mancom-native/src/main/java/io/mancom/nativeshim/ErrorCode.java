package io.mancom.nativeshim;

import io.mancom.ConfigException;
import io.mancom.ManComException;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The negative {@code MANCOM_E...} codes of {@code mancom.h}, one per
 * {@link ManComException.Reason} plus the C API's own. The values are part of the C ABI: they
 * never change, and new codes get new numbers.
 *
 * <p>Immutable; thread-safe.
 */
public enum ErrorCode {
    /** A NULL or out-of-range argument. */
    EINVAL(-1, null),
    /** {@code mancom_init()} has not succeeded. */
    ENOTINIT(-2, null),
    /** Not a live connection, listener or registration. */
    EBADHANDLE(-3, null),
    /** Not allowed now (init twice, a blocking call inside a callback). */
    ESTATE(-4, null),
    /** The JVM or the ManCom jar could not be found or started. */
    EJVM(-5, null),
    /** A bug; the message carries the Java exception. */
    EINTERNAL(-6, null),
    ECONFIG(-10, ManComException.Reason.CONFIG),
    ENOSERVICE(-11, ManComException.Reason.UNKNOWN_SERVICE),
    ENOTRANSPORT(-12, ManComException.Reason.NO_TRANSPORT),
    EWRONGMODE(-13, ManComException.Reason.WRONG_MODE),
    EADDRINUSE(-14, ManComException.Reason.ADDRESS_IN_USE),
    EUNREACHABLE(-15, ManComException.Reason.UNREACHABLE),
    ETIMEOUT(-16, ManComException.Reason.TIMEOUT),
    ECLOSED(-17, ManComException.Reason.CLOSED),
    ELINKFAILED(-18, ManComException.Reason.LINK_FAILED),
    EWRITEQUEUEFULL(-19, ManComException.Reason.WRITE_QUEUE_FULL),
    ENODEVICE(-20, ManComException.Reason.NO_DEVICE),
    EPERM(-21, ManComException.Reason.PERMISSION_DENIED),
    EBUSY(-22, ManComException.Reason.BUSY),
    EPROTOCOL(-23, ManComException.Reason.PROTOCOL),
    ENOTREADY(-24, ManComException.Reason.NOT_READY),
    EIO(-25, ManComException.Reason.IO),
    /** IDLE_TIMEOUT: no byte either way for {@code tcp.idle-timeout}; the connection was closed. */
    EIDLETIMEOUT(-26, ManComException.Reason.IDLE_TIMEOUT),
    /** READ_TIMEOUT: no byte received for {@code tcp.read-timeout}; the connection was closed. */
    EREADTIMEOUT(-27, ManComException.Reason.READ_TIMEOUT);

    private static final Map<ManComException.Reason, ErrorCode> BY_REASON = new EnumMap<>(ManComException.Reason.class);

    static {
        for (ErrorCode c : values()) {
            if (c.reason != null) {
                BY_REASON.put(c.reason, c);
            }
        }
    }

    private final int code;
    private final ManComException.Reason reason;

    ErrorCode(int code, ManComException.Reason reason) {
        this.code = code;
        this.reason = reason;
    }

    /** The C value, always negative. */
    public int code() {
        return code;
    }

    /** The reason this code stands for, if it stands for one. */
    public Optional<ManComException.Reason> reason() {
        return Optional.ofNullable(reason);
    }

    /** The C macro name, for example {@code MANCOM_ETIMEOUT}. */
    public String macro() {
        return "MANCOM_" + name();
    }

    /** The code of a reason; a reason added to the API later maps to {@link #EIO}. */
    public static ErrorCode of(ManComException.Reason reason) {
        return BY_REASON.getOrDefault(reason, EIO);
    }

    /** The code for a C value, if it is one. */
    public static Optional<ErrorCode> ofCode(int code) {
        for (ErrorCode c : values()) {
            if (c.code == code) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /**
     * The code a failure becomes in C: a {@link ManComException} by its reason, a
     * {@link ConfigException} as {@link #ECONFIG} (or {@link #ENOSERVICE} for an unknown service),
     * misuse as {@link #EINVAL}/{@link #ESTATE}, other I/O as {@link #EIO}, anything else as
     * {@link #EINTERNAL}. Completion wrappers are looked through.
     */
    public static ErrorCode of(Throwable t) {
        Throwable c = unwrap(t);
        if (c instanceof ManComException) {
            return of(((ManComException) c).reason());
        }
        if (c instanceof ConfigException) {
            String m = String.valueOf(c.getMessage());
            return m.contains("unknown service") ? ENOSERVICE : ECONFIG;
        }
        if (c instanceof IllegalArgumentException) {
            return EINVAL;
        }
        if (c instanceof IllegalStateException) {
            return ESTATE;
        }
        if (c instanceof java.io.IOException) {
            return EIO;
        }
        return EINTERNAL;
    }

    /** The failure inside {@link CompletionException}s and {@link ExecutionException}s. */
    public static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
