package io.mancom.core.spi;

/**
 * Implemented by a {@link io.mancom.spi.Listener} that keeps trying to serve (a device that is
 * not there yet), so that {@link io.mancom.ManCom#awaitReady} can say why a service is not ready.
 */
public interface StatusReporting {

    /** Why the listener is not serving now (for example the last open failure), or null. */
    String status();
}
