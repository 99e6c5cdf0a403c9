package io.mancom.daemon.internal;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps SIGHUP the daemon's. jSerialComm's native library sets SIGHUP (and others) to
 * {@code SIG_IGN} for the whole process when it loads (Fazecast/jSerialComm#612), and the JVM
 * installs no handler for an ignored SIGHUP: a daemon that opened a serial port would stop
 * reloading on SIGHUP. So the library is loaded first, here, and SIGHUP put back to its default
 * through JNA, before the daemon installs its handler; the library loads only once per process,
 * so nothing sets it again. Linux values. Stateless.
 */
public final class HangUp {
    private static final Logger log = LoggerFactory.getLogger(HangUp.class);
    private static final int SIGHUP = 1;
    private static final String SERIAL = "com.fazecast.jSerialComm.SerialPort";

    private HangUp() {
    }

    interface LibC extends Library {
        Pointer signal(int signum, Pointer handler);
    }

    /**
     * Loads jSerialComm now if it is on the class path, then gives SIGHUP its default disposition
     * back. Call it before installing a SIGHUP handler. Never throws: without jSerialComm there is
     * nothing to undo, and without JNA the reason is logged.
     */
    public static void reclaimFromSerialLibrary() {
        try {
            Class.forName(SERIAL, true, HangUp.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            return; // no serial transport here: nobody ignores SIGHUP behind our back
        } catch (LinkageError e) {
            log.debug("jSerialComm did not load ({}); SIGHUP left as it is", e.toString());
            return;
        }
        try {
            Native.load("c", LibC.class).signal(SIGHUP, Pointer.NULL); // SIG_DFL
        } catch (LinkageError | RuntimeException e) {
            log.warn("jSerialComm ignores SIGHUP in this process and it cannot be restored ({}): reload with"
                    + " `mancom daemon reload` instead", e.toString());
        }
    }
}
