package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.device.DeviceLink;
import io.mancom.core.spi.device.DeviceOpener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.mancom.usb.internal.UsbTestSupport.ERRORS;
import static io.mancom.usb.internal.UsbTestSupport.T;
import static io.mancom.usb.internal.UsbTestSupport.echoDevice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the USB transport adds to core's device transport: openers over one lazily started backend. */
class UsbOpenersTest {
    private static final EndPoint EP = EndPoint.parse("usb://16c0:05dc");
    private final InMemoryUsb bus = InMemoryUsb.create(true);
    private final AtomicInteger starts = new AtomicInteger();
    private final UsbOpeners openers = new UsbOpeners(new UsbConfig("memory:" + bus.id, UsbConfig.Hotplug.AUTO,
            Duration.ofMillis(20)), "memory", () -> {
        starts.incrementAndGet();
        return bus.session();
    }, ERRORS);

    @AfterEach
    void close() {
        openers.close();
        bus.close();
    }

    @Test
    void theBackendStartsWithTheFirstOpenAndOnlyOnce() throws Exception {
        DeviceOpener listener = openers.forListener(EP);
        DeviceOpener client = openers.forClient(EP);
        assertThat(starts).hasValue(0);
        assertThat(openers.startedSession()).isNull();
        bus.plug(echoDevice());
        DeviceLink a = client.open(EP);
        a.close();
        DeviceLink b = listener.open(EP);
        b.close();
        assertThat(starts).hasValue(1);
        assertThat(bus.sessionCount()).isEqualTo(1);
    }

    @Test
    void aListenersOpenerWaitsForTheDeviceToArriveAndAClientsDoesNot() throws Exception {
        DeviceOpener client = openers.forClient(EP);
        assertThatThrownBy(() -> client.open(EP)).isInstanceOf(ManComException.class)
                .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.NO_DEVICE));
        DeviceOpener listener = openers.forListener(EP);
        // The first failure is reported at once (awaitReady names it); the next open waits.
        assertThatThrownBy(() -> listener.open(EP)).isInstanceOf(ManComException.class);
        CompletableFuture<DeviceLink> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return listener.open(EP);
            } catch (ManComException e) {
                throw new IllegalStateException(e);
            }
        });
        bus.plug(echoDevice());
        DeviceLink link = waiting.get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(link.remote().toString()).contains("bus=1&address=2");
        link.close();
    }

    @Test
    void closingAListenersOpenerEndsItsWaitAtOnce() throws Exception {
        DeviceOpener listener = openers.forListener(EP);
        assertThatThrownBy(() -> listener.open(EP)).isInstanceOf(ManComException.class);
        CompletableFuture<Throwable> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                listener.open(EP).close();
                return null;
            } catch (ManComException e) {
                return e;
            }
        });
        // The wait would last UsbOpeners.ARRIVAL_WAIT (30 s); closing ends it.
        assertThat(UsbOpeners.ARRIVAL_WAIT).isGreaterThan(T.multipliedBy(2));
        listener.close();
        Throwable t = waiting.get(T.toSeconds(), TimeUnit.SECONDS);
        assertThat(t).isInstanceOf(ManComException.class);
        assertThat(((ManComException) t).reason()).isEqualTo(Reason.CLOSED);
    }

    @Test
    void closeClosesTheOpenLinksThenTheBackendAndLaterOpensFail() throws Exception {
        bus.plug(echoDevice());
        UsbLink link = (UsbLink) openers.forClient(EP).open(EP);
        assertThat(bus.sessionCount()).isEqualTo(1);
        openers.close();
        assertThat(link.awaitClosed(Duration.ZERO)).isTrue();
        assertThat(bus.sessionCount()).isZero();
        assertThatThrownBy(() -> openers.forListener(EP).open(EP)).isInstanceOf(ManComException.class)
                .satisfies(e -> assertThat(((ManComException) e).reason()).isEqualTo(Reason.CLOSED));
        openers.close(); // idempotent
    }
}
