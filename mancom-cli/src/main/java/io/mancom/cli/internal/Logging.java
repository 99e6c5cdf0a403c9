package io.mancom.cli.internal;

/** The CLI's settings of its logging binding (slf4j-simple), made before the first logger exists. */
public final class Logging {
    private Logging() {
    }

    /**
     * Turns the per-connection INFO lines of {@code io.mancom.events} off, for commands whose own
     * output says what happened (demo, benchmarks), unless the user set that logger or asked for
     * --verbose. Call it before the first runtime starts: the runtime makes its events logger then.
     */
    public static void quietConnectionEvents() {
        if (System.getProperty("org.slf4j.simpleLogger.log.io.mancom.events") == null
                && !"debug".equals(System.getProperty("org.slf4j.simpleLogger.log.io.mancom"))) {
            System.setProperty("org.slf4j.simpleLogger.log.io.mancom.events", "warn");
        }
    }
}
