package io.mancom.nativeshim.internal;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import io.mancom.TlsCertificate;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code mancom_set_certificate_callback}: the C program's certificate callback behind the
 * runtime's {@link io.mancom.CertificateSelector}. The runtime is always started with
 * {@link #select} as its selector; until C sets a callback (and after it sets NULL) it answers
 * null, the service's configured {@code tls.cert}.
 *
 * <p>{@link #select} runs on a runtime blocking thread, once per handshake; it gives the C
 * callback a zeroed {@code struct mancom_certificate} (four pointers), copies the strings it
 * filled in before returning, and turns a negative answer into a failed handshake. Thread-safe:
 * the callback and its user pointer are swapped together as one volatile value.
 */
final class NativeCertificates {
    private record Callback(Function fn, Pointer user) {
    }

    private static volatile Callback callback;

    private NativeCertificates() {
    }

    /** The table entry: {@code int set_certificates(void *cb, void *user)}; a NULL cb unsets it. */
    static int set(Pointer cb, Pointer user) {
        callback = cb == null ? null : new Callback(Function.getFunction(cb), user);
        return 0;
    }

    /** The selector the runtime calls per handshake. */
    static TlsCertificate select(String serverName) {
        Callback c = callback;
        if (c == null) {
            return null;
        }
        Memory out = new Memory(4L * Native.POINTER_SIZE);
        out.clear();
        int rc = c.fn().invokeInt(new Object[]{serverName, out, c.user()});
        if (rc < 0) {
            throw new IllegalStateException("the C certificate callback refused server name '" + serverName
                    + "' (it returned " + rc + ")");
        }
        if (rc == 0) {
            return null;
        }
        String certPem = string(out, 0);
        String keyPem = string(out, 1);
        String certFile = string(out, 2);
        String keyFile = string(out, 3);
        if (certPem != null && keyPem != null) {
            return TlsCertificate.ofPem(certPem, keyPem);
        }
        if (certFile != null && keyFile != null) {
            return TlsCertificate.ofFiles(Path.of(certFile), Path.of(keyFile));
        }
        throw new IllegalStateException("the C certificate callback returned 1 for server name '" + serverName
                + "' but filled neither cert_pem and key_pem nor cert_file and key_file");
    }

    private static String string(Memory out, int field) {
        Pointer p = out.getPointer((long) field * Native.POINTER_SIZE);
        return p == null ? null : p.getString(0, StandardCharsets.UTF_8.name());
    }
}
