/**
 * The USB transport ({@code usb://} endpoints) and the list of the machine's USB devices.
 *
 * <p>{@link io.mancom.usb.UsbTransportProvider} is found by {@link java.util.ServiceLoader};
 * applications do not use it directly. {@link io.mancom.usb.UsbDevices#list()} reports the devices
 * for tools such as {@code mancom ports}. Everything else is in {@code .internal}: the backend seam
 * ({@code UsbBackend}, implemented on usb4java's libusb API), the opener, the link of bulk
 * transfers and the device watcher.
 */
package io.mancom.usb;
