package io.mancom.spi;

import io.mancom.ManComException;
import io.mancom.ModemStatus;
import io.mancom.SerialAddress;

/**
 * What an open serial link offers for {@link io.mancom.SerialLine}, as a transport implements it:
 * plain synchronous calls on the driver. The runtime adds the rest (closed checks, the
 * listener's polling on the event loop, the break's timer, running {@link #reconfigure} off the
 * loop).
 *
 * <p>Thread-safe. Every method but {@link #reconfigure} must return at once (an {@code ioctl});
 * they may be called on an event loop. Errors are {@link ManComException}s whose message names
 * the device and the operation.
 */
public interface LineControl {

    /** The settings in force. */
    SerialAddress settings();

    /** Asserts or clears DTR. */
    void setDtr(boolean on) throws ManComException;

    /** Asserts or clears RTS. */
    void setRts(boolean on) throws ManComException;

    /** Reads CTS, DSR, DCD and RI. */
    ModemStatus modemStatus() throws ManComException;

    /** Throws (reason IO, saying why) if the device has no modem lines at all; else returns. */
    void checkModemLines() throws ManComException;

    /** Starts ({@code true}) or ends the break condition. */
    void setBreak(boolean on) throws ManComException;

    /** Applies new settings to the open line; may block for some milliseconds, never on a loop. */
    void reconfigure(SerialAddress settings) throws ManComException;
}
