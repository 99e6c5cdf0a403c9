package io.mancom;

/**
 * Told when an input modem line of a serial line changes; see
 * {@link SerialLine#setModemStatusListener}.
 *
 * <p>Runs on the connection's event-loop thread (also when the service's callbacks run on an
 * executor named at registration). It must be fast and must not block: it holds up every other
 * connection on that loop. It must not throw; a listener that throws is removed and the
 * exception is logged.
 */
@FunctionalInterface
public interface ModemStatusListener {

    /**
     * @param previous the lines as they were last seen
     * @param current  the lines now; differs from {@code previous} in at least one line
     */
    void modemStatusChanged(ModemStatus previous, ModemStatus current);
}
