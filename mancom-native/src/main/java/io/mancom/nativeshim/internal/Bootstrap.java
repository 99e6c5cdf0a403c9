package io.mancom.nativeshim.internal;

import com.sun.jna.Pointer;
import io.mancom.ManCom;

import java.nio.file.Path;

/**
 * The one class libmancom.so calls through JNI, once, from {@code mancom_init}: starts the
 * runtime and hands back the address of the function {@link Table}. Everything after that goes
 * through the table.
 */
public final class Bootstrap {
    // Strong references for the life of the process: C holds pointers into them.
    private static volatile Table table;
    private static volatile Bridge bridge;
    private static volatile ManCom runtime;
    private static volatile String failure = "";

    private Bootstrap() {
    }

    /**
     * Starts the runtime on {@code configPath} (null: the layered system-wide configuration).
     *
     * @return the address of the table, or a negative {@code MANCOM_E...} code; then
     *         {@link #failure()} says why
     */
    public static synchronized long start(String configPath) {
        try {
            // The selector asks the C callback, once mancom_set_certificate_callback set one.
            ManCom.Builder builder = ManCom.builder().certificates(NativeCertificates::select);
            ManCom mancom = (configPath == null ? builder : builder.configFile(Path.of(configPath))).start();
            Bridge b = new Bridge(mancom);
            if (table == null) {
                table = Table.of(b);
            }
            bridge = b;
            runtime = mancom;
            return Pointer.nativeValue(table.getPointer());
        } catch (Throwable t) {
            int code = Errors.fail(t);
            failure = "mancom_init: " + Errors.last();
            return code;
        }
    }

    /** The size in bytes of the function table {@link #start} returns; C checks it against its own. */
    public static int tableSize() {
        return new Table().size();
    }

    /** Why the last {@link #start} failed. */
    public static String failure() {
        return failure;
    }

    /** The running runtime (null before the first start), for entries outside the {@link Bridge}. */
    static ManCom runtime() {
        return runtime;
    }

    /** The bridge of the running runtime, for the table's entries. */
    static Bridge bridge() {
        return bridge;
    }
}
