package io.mancom;

/**
 * The input modem lines of a serial line at one moment: an immutable snapshot, from
 * {@link SerialLine#modemStatus()} or given to a {@link ModemStatusListener}.
 *
 * <p>{@code true} means the line is asserted, as the driver reports it (on RS-232 a positive
 * voltage; USB adapters often drive their pins active low, so "asserted" is a low pin there).
 *
 * @param cts Clear To Send: the peer is ready to receive (with {@code flow=rtscts} the driver
 *            follows it by itself)
 * @param dsr Data Set Ready: the peer (a modem, a device) is powered and present
 * @param dcd Data Carrier Detect: a modem has a carrier to its remote end
 * @param ri  Ring Indicator: a modem sees a ring on its phone line
 */
public record ModemStatus(boolean cts, boolean dsr, boolean dcd, boolean ri) {

    @Override
    public String toString() {
        return "CTS=" + on(cts) + " DSR=" + on(dsr) + " DCD=" + on(dcd) + " RI=" + on(ri);
    }

    private static String on(boolean b) {
        return b ? "on" : "off";
    }
}
