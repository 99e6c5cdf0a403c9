package io.mancom.usb.internal;

import io.mancom.testkit.EchoPeer;
import io.mancom.testkit.TransportContractTest;

/**
 * The transport contract on the in-memory USB bus: the peer is an echo device, which holds back
 * (NAKs) OUT transfers while paused and is unplugged to cut the link. A USB device has no
 * half-close.
 */
class UsbContractTest extends TransportContractTest {
    private InMemoryUsb bus;

    @Override
    protected EchoPeer startPeer() {
        bus = InMemoryUsb.create(true);
        InMemoryUsb.Device device = bus.plug(UsbTestSupport.echoDevice());
        return new EchoPeer() {
            @Override
            public void pause() {
                device.holdOut(true);
            }

            @Override
            public void resume() {
                device.holdOut(false);
            }

            @Override
            public void cut() {
                bus.unplug(device);
            }

            @Override
            public void close() {
                device.holdOut(false);
                bus.close();
            }
        };
    }

    @Override
    protected String config() {
        return bus.backendConfig() + "mancom.services." + SERVICE + ".endpoint = \"usb://16c0:05dc\"";
    }

    @Override
    protected boolean halfClose() {
        return false;
    }
}
