/**
 * The serial transport ({@code serial://} endpoints) and the list of the machine's serial ports.
 *
 * <p>{@link io.mancom.serial.SerialTransportProvider} is found by {@link java.util.ServiceLoader};
 * applications do not use it directly. {@link io.mancom.serial.SerialPorts#list()} reports the
 * ports for tools such as {@code mancom ports}. Everything else is in {@code .internal}.
 */
package io.mancom.serial;
