package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;

/**
 * Opens the device an endpoint names: with its {@link DeviceLink}, the one thing a device transport
 * writes itself (the serial transport wraps jSerialComm here, the USB transport usb4java). A
 * {@link DeviceOpeners} hands openers to the {@link DeviceTransport}.
 *
 * <h2>Waiting for a device (hotplug)</h2>
 * An opener given to a {@link DeviceListener} may wait inside {@link #open} for a missing device
 * to be plugged in (the USB opener waits for an arrival event, or for its poller, and opens the
 * device at once when it comes). Such an opener ends that wait in {@link #close()}, which the
 * listener calls when it stops. An opener that never waits keeps the default {@code close()}.
 *
 * <h2>Threading</h2>
 * Called on a blocking thread ({@link io.mancom.core.spi.NettyRuntime#blockingExecutor()}), never on
 * an event loop; it may block for as long as opening the device takes. It may be called again for
 * the same endpoint after the previous link was closed (reopening after a loss), and concurrently
 * for different endpoints.
 *
 * <h2>Errors</h2>
 * A failure is a {@link ManComException} whose reason says whether waiting can help and whose
 * message says what to do: {@link ManComException.Reason#NO_DEVICE} (not plugged in; list what is
 * there), {@link ManComException.Reason#PERMISSION_DENIED} (say which group grants access),
 * {@link ManComException.Reason#BUSY} (say who holds it). {@link DeviceListener} retries every
 * reason except {@link ManComException.Reason#CONFIG}, which no amount of waiting fixes.
 */
@FunctionalInterface
public interface DeviceOpener {

    /**
     * Opens the device and applies the endpoint's settings.
     *
     * @return the open link, owned by the caller from now on
     * @throws ManComException why the device cannot be opened
     */
    DeviceLink open(EndPoint endpoint) throws ManComException;

    /**
     * Ends a wait for the device that {@link #open} may be in, at once, and makes later opens fail
     * with {@link ManComException.Reason#CLOSED}. Idempotent, never blocks, any thread. The default
     * does nothing: for openers that never wait.
     */
    default void close() {
    }
}
