package io.mancom.core.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;

/**
 * Opens the device an endpoint names: the one thing a device transport writes itself (the serial
 * transport wraps jSerialComm here; USB will wrap usb4java).
 *
 * <h2>Threading</h2>
 * Called on a blocking thread ({@link io.mancom.core.NettyRuntime#blockingExecutor()}), never on
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
}
