package io.mancom.nativeshim.internal;

import com.sun.jna.Pointer;
import io.mancom.ManCom;
import io.mancom.core.internal.monitor.Json;
import io.mancom.nativeshim.ErrorCode;

import java.nio.charset.StandardCharsets;

/**
 * {@code mancom_status_json}: the runtime's {@link ManCom#status()} as the JSON the control socket
 * serves at {@code /status}, copied into the C program's buffer the way {@code snprintf} does.
 *
 * <p>Returns the JSON's length in bytes (without the NUL). When that is {@code len} or more, the
 * buffer gets the first {@code len - 1} bytes and a NUL (a prefix, not valid JSON, and possibly
 * cut inside a UTF-8 sequence), or nothing when {@code len} is 0, and the caller can retry with a
 * buffer of the returned length plus one. Failures are negative {@code MANCOM_E...} codes with
 * the message in {@code mancom_last_error()}.
 *
 * <p>Threading: any thread but a C callback's is fine; the snapshot is built on the calling
 * thread and reads the counters racily (each value one the counter had).
 */
final class StatusJson {
    private StatusJson() {
    }

    /** The table entry: {@code int status_json(char *buf, int64_t len)}. */
    static int call(Pointer buf, long len) {
        try {
            ManCom mancom = Bootstrap.runtime();
            if (mancom == null) {
                return Errors.fail(ErrorCode.ENOTINIT, "mancom_status_json: ManCom is not running");
            }
            byte[] json = Json.status(mancom.status()).getBytes(StandardCharsets.UTF_8);
            if (len > 0) {
                int n = (int) Math.min(json.length, len - 1);
                buf.write(0, json, 0, n);
                buf.setByte(n, (byte) 0);
            }
            return json.length;
        } catch (Throwable t) {
            return Errors.fail(t);
        }
    }
}
