package io.mancom;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * The control side of an open serial line: the output modem lines (DTR, RTS), the input modem
 * lines (CTS, DSR, DCD, RI) and their changes, a break, and the line settings (baud rate and
 * framing), changed while the line stays open. Obtained with {@link Connection#serialLine()} or
 * {@link BlockingConnection#serialLine()}; data still goes through the connection.
 *
 * <pre>{@code
 * SerialLine line = connection.serialLine();          // throws on a TCP connection or a mux stream
 * line.setDtr(false);                                 // hold an Arduino-style board in reset...
 * line.setDtr(true);                                  // ...and let it go
 * line.reconfigure(line.settings().withBaud(9600));   // same device, another speed
 * line.sendBreak(Duration.ofMillis(250)).toCompletableFuture().join();
 * }</pre>
 *
 * <h2>Lifecycle</h2>
 * A SerialLine belongs to one open connection: one line, one connection. When the connection
 * closes (or the device is lost) every method throws (or fails its stage with) a
 * {@link ManComException} of reason {@link ManComException.Reason#CLOSED}, and the modem-status
 * listener is dropped. A service that reopens the line after a loss hands out a new connection
 * with a new SerialLine, with the endpoint's configured settings, DTR and RTS on (what
 * jSerialComm sets on open) and no listener: set them again in the acceptor.
 *
 * <h2>Threading</h2>
 * All methods are thread-safe and may be called from any thread, including the connection's own
 * callbacks. {@link #setDtr}, {@link #setRts} and {@link #modemStatus()} are one or a few
 * {@code ioctl} calls and return at once. {@link #sendBreak} and {@link #reconfigure} never
 * block the caller's thread beyond that either: the break is ended by a timer on the connection's
 * event loop, and a reconfiguration runs on a blocking thread (it may call {@code stty}); both
 * report through the returned stage. The {@link ModemStatusListener} runs on the connection's
 * event loop.
 *
 * <h2>What the lines mean on what device</h2>
 * A real UART or a USB serial adapter has the modem lines its wiring gives it (many adapters
 * bring out only RTS and CTS, or none at all, and then report the others as off). A
 * pseudo-terminal (a {@code /dev/pts/N}, such as the pty pairs {@code socat} makes) has none:
 * there the modem-line methods throw reason {@link ManComException.Reason#IO} saying so, a break
 * is accepted but the other side sees nothing, and a new baud rate is stored in the terminal's
 * settings ({@code stty -F} shows it) while data keeps moving at memory speed.
 *
 * <h2>Errors</h2>
 * {@link ManComException} with reason {@link ManComException.Reason#CLOSED} once the connection
 * is closed; {@link ManComException.Reason#IO} when the driver refuses (the message names the
 * device, the operation and the errno); {@link ManComException.Reason#CONFIG} for settings the
 * platform cannot apply ({@code stopbits=1.5} with more than 5 data bits on Linux or macOS).
 */
public interface SerialLine {

    /** The line's current settings: the endpoint's, or the last ones {@link #reconfigure} applied. */
    SerialAddress settings();

    /**
     * Asserts ({@code true}) or clears DTR (Data Terminal Ready). DTR is on after the line opens.
     *
     * @throws ManComException CLOSED after close; IO if the device has no DTR (a pty) or the driver failed
     */
    void setDtr(boolean on) throws ManComException;

    /**
     * Asserts ({@code true}) or clears RTS (Request To Send). RTS is on after the line opens. With
     * {@code flow=rtscts} the driver drives RTS itself and may override this.
     *
     * @throws ManComException CLOSED after close; IO if the device has no RTS (a pty) or the driver failed
     */
    void setRts(boolean on) throws ManComException;

    /**
     * Reads the input modem lines now.
     *
     * @throws ManComException CLOSED after close; IO if the device has no modem lines (a pty)
     */
    ModemStatus modemStatus() throws ManComException;

    /**
     * Sets the listener told when an input modem line changes (replacing any earlier one);
     * {@code null} removes it. While a listener is set the connection's event loop looks at the
     * lines every 10 ms (four {@code ioctl}s, a few microseconds), so a pulse shorter than that
     * may be missed; the listener gets the state before and after each change it sees.
     * (jSerialComm's own modem events are not used: turning them on for an open port reconfigures
     * it and joins its event thread, and would change how the port's loss is detected.)
     *
     * @throws ManComException CLOSED after close; IO if the device has no modem lines (a pty)
     */
    void setModemStatusListener(ModemStatusListener listener) throws ManComException;

    /**
     * Holds the line in the break condition (TX low for longer than a character) for
     * {@code duration}, then releases it. The break starts at once: bytes written earlier may still
     * be in the write queue or the driver's buffer; to break after them, wait for their write
     * stages first. Do not write during the break (the peer would not receive it intact).
     *
     * @param duration 1 ms to 10 s; a UART's break is usually 250 ms (what {@code tcsendbreak} sends)
     * @return completes when the break has ended; fails with CLOSED if the connection closed
     *         before, or IO if the driver refused the break
     * @throws IllegalArgumentException for a duration outside 1 ms to 10 s
     */
    CompletionStage<Void> sendBreak(Duration duration);

    /**
     * Applies new line settings to the open line: baud rate, data bits, parity, stop bits, flow
     * control (and the read timeout, where the line is served by a reader thread). Data already
     * in the driver's buffers is not flushed; bytes in flight while the speed changes may arrive
     * garbled at the peer, as on any UART, so change it between messages.
     *
     * @param settings the same device as {@link #settings()}, with the new line settings
     * @return completes once the settings are in force; fails with CONFIG for settings the
     *         platform cannot apply, IO if the driver refused them (the old ones then stay), CLOSED
     *         after close
     * @throws IllegalArgumentException if {@code settings} names another device
     */
    CompletionStage<Void> reconfigure(SerialAddress settings);
}
