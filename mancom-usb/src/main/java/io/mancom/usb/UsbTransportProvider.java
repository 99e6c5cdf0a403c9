package io.mancom.usb;

import io.mancom.TransportType;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.core.spi.device.DeviceTransport;
import io.mancom.spi.Transport;
import io.mancom.spi.TransportContext;
import io.mancom.spi.TransportProvider;
import io.mancom.usb.internal.UsbBackendFactory;
import io.mancom.usb.internal.UsbBackends;
import io.mancom.usb.internal.UsbConfig;
import io.mancom.usb.internal.UsbErrors;
import io.mancom.usb.internal.UsbOpeners;

import java.util.Map;

/**
 * The {@code usb://VID:PID?serial=...&bus=..&address=..&interface=0&in=0x81&out=0x02&timeout=1s}
 * transport: a pair of bulk endpoints of one interface of a USB device, on usb4java (libusb).
 *
 * <p>A USB device has no "accept": a service on a USB endpoint opens the device when it is
 * present, and the open device is its one connection. When the device is unplugged the connection
 * gets one close event with the cause and the service waits for it to come back (libusb hotplug
 * events, or polling where there are none), then opens it and the acceptor runs again. A client
 * {@code connect} opens the device once. The link is a device channel on the runtime's event
 * loops, so everything built on connections (both API styles, the mux) works on it unchanged: the
 * transport is mancom-core's {@link DeviceTransport} with USB openers ({@code UsbOpeners}) and
 * links ({@code UsbLink}). See {@code docs/usb.md}.
 *
 * <p>The constructor does nothing; libusb is loaded and started on the first open of a USB
 * endpoint. {@link #create} reads the {@code mancom.usb} config block and throws a
 * {@link io.mancom.ConfigException} for a bad value there.
 */
public final class UsbTransportProvider implements TransportProvider {

    @Override
    public String scheme() {
        return "usb";
    }

    @Override
    public TransportType type() {
        return TransportType.USB;
    }

    @Override
    public Transport create(TransportContext context) {
        Map<String, UsbBackendFactory> backends = UsbBackends.installed();
        UsbConfig config = UsbConfig.from(context.unwrap(RuntimeSettings.class).config(), backends.keySet());
        UsbBackendFactory factory = backends.get(config.backendName());
        UsbOpeners openers = new UsbOpeners(config, factory.name(), () -> factory.start(config.backendArgument()),
                UsbErrors.forThisMachine());
        return new DeviceTransport(TransportType.USB, context.unwrap(NettyRuntime.class), openers, UsbOpeners.OPTIONS);
    }
}
