package io.mancom.usb.internal;

import io.mancom.BlockingConnection;
import io.mancom.ConfigException;
import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.testkit.TestRuntimes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.mancom.usb.internal.UsbTestSupport.T;
import static io.mancom.usb.internal.UsbTestSupport.echoDevice;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The USB transport through the public API, with the in-memory bus selected by config
 * ({@code mancom.usb.backend = "memory:ID"}): both API styles, hotplug accept and close, errors.
 */
class UsbEndToEndTest {
    private static final String PROBE = "mancom.services.probe { endpoint = \"usb://16c0:05dc\", reconnect { initial-delay = 10ms, max-delay = 50ms } }\n";

    private final TestRuntimes runtimes = new TestRuntimes();
    private final List<InMemoryUsb> buses = new ArrayList<>();

    @AfterEach
    void close() {
        runtimes.close();
        buses.forEach(InMemoryUsb::close);
    }

    private InMemoryUsb bus(boolean hotplug) {
        InMemoryUsb b = InMemoryUsb.create(hotplug);
        buses.add(b);
        return b;
    }


    @Test
    void callbacksEchoThroughTheDevice() throws Exception {
        InMemoryUsb bus = bus(true);
        bus.plug(echoDevice());
        ManCom m = runtimes.start(bus.backendConfig() + PROBE);
        CompletableFuture<byte[]> got = new CompletableFuture<>();
        m.registerAcceptor("probe", c -> c.write("ping over usb".getBytes(StandardCharsets.US_ASCII)));
        m.registerDataReceiver("probe", collector(13, got));
        m.awaitReady(T);
        assertThat(new String(got.get(10, TimeUnit.SECONDS), StandardCharsets.US_ASCII)).isEqualTo("ping over usb");
    }

    @Test
    void aBlockingClientNamesTheDeviceItOpenedAndReleasesItOnClose() throws Exception {
        // Echo and a big transfer are in UsbContractTest; this is what only USB has.
        InMemoryUsb bus = bus(true);
        InMemoryUsb.Device d = bus.plug(echoDevice());
        ManCom m = runtimes.start(bus.backendConfig() + PROBE);
        try (BlockingConnection c = m.connect("probe")) {
            assertThat(c.remote().toString()).isEqualTo("usb://16c0:05dc?interface=0&bus=1&address=2&in=0x81&out=0x02");
            c.write("ping".getBytes(StandardCharsets.US_ASCII));
            assertThat(readExactly(c, 4)).isEqualTo("ping".getBytes(StandardCharsets.US_ASCII));
        }
        UsbTestSupport.await("the device is released", () -> !d.claimed() && d.openHandles.get() == 0);
    }

    @ParameterizedTest(name = "hotplug events: {0}")
    @ValueSource(booleans = {true, false})
    void aDevicePluggedInIsAcceptedAndUnpluggingClosesItOnceUntilItReturns(boolean events) throws Exception {
        InMemoryUsb bus = bus(events);
        ManCom m = runtimes.start(bus.backendConfig() + "mancom.usb.poll-interval = 10ms\n" + PROBE);
        BlockingQueue<Connection> accepted = new LinkedBlockingQueue<>();
        List<Throwable> closes = new CopyOnWriteArrayList<>();
        BlockingQueue<Connection> closed = new LinkedBlockingQueue<>();
        m.registerAcceptor("probe", accepted::add);
        m.registerDataReceiver("probe", new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                closes.add(cause);
                closed.add(c);
            }
        });
        assertThatThrownBy(() -> m.awaitReady(Duration.ofMillis(300)))
                .isInstanceOf(ManComException.class)
                .hasMessageContaining("no USB device 16c0:05dc is plugged in. USB devices present: none");

        InMemoryUsb.Device d = bus.plug(echoDevice());
        Connection first = accepted.poll(10, TimeUnit.SECONDS);
        assertThat(first).as("accepted on arrival").isNotNull();
        m.awaitReady(T);

        bus.unplug(d);
        assertThat(closed.poll(10, TimeUnit.SECONDS)).isSameAs(first);
        assertThat(closes).singleElement().isInstanceOfSatisfying(ManComException.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.LINK_FAILED);
            assertThat(e.getMessage()).contains("USB device 16c0:05dc on bus 1 address 2 was unplugged");
        });

        bus.plug(d);
        Connection second = accepted.poll(10, TimeUnit.SECONDS);
        assertThat(second).as("a new connection when the device returns").isNotNull().isNotSameAs(first);
        second.write("back".getBytes(StandardCharsets.US_ASCII)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(closed).as("the first connection closed exactly once").isEmpty();
        assertThat(closes).hasSize(1);
    }

    @Test
    void libusbThatCannotStartIsReportedByAwaitReady() {
        InMemoryUsb bus = bus(true);
        bus.failStart = true;
        ManCom m = runtimes.start(bus.backendConfig() + PROBE);
        m.registerDataReceiver("probe", (c, d) -> { });
        assertThatThrownBy(() -> m.awaitReady(Duration.ofMillis(300)))
                .hasMessageContaining("memory cannot start (LIBUSB_ERROR_OTHER: libusb_init failed: Other error)");
    }

    @Test
    void badUsbSettingsAreConfigErrorsNamingTheKey() {
        ManCom m = runtimes.start("mancom.usb.backend = nosuch\n" + PROBE);
        assertThatThrownBy(() -> {
            m.registerDataReceiver("probe", (c, d) -> { });
            m.awaitReady(Duration.ofSeconds(2));
        }).hasStackTraceContaining("mancom.usb.backend")
                .hasStackTraceContaining("expected one of the installed USB backends: libusb, memory");

        ManCom m2 = runtimes.start("mancom.usb.hotplug = sometimes\n" + PROBE);
        assertThatThrownBy(() -> {
            m2.registerDataReceiver("probe", (c, d) -> { });
            m2.awaitReady(Duration.ofSeconds(2));
        }).hasStackTraceContaining("mancom.usb.hotplug");

        assertThatThrownBy(() -> runtimes.start("mancom.services.x { endpoint = \"usb://16c0:05dc?interface=300\" }"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("interface=300 is out of range 0..255");
    }

    static byte[] readExactly(BlockingConnection c, int n) throws Exception {
        byte[] out = new byte[n];
        int got = 0;
        while (got < n) {
            int r = c.read(out, got, n - got, T);
            if (r < 0) {
                throw new AssertionError("closed after " + got + " of " + n);
            }
            got += r;
        }
        return out;
    }

    static DataReceiver collector(int expected, CompletableFuture<byte[]> done) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        return new DataReceiver() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                byte[] b = new byte[data.remaining()];
                data.get(b);
                got.write(b, 0, b.length);
                if (got.size() >= expected) {
                    done.complete(got.toByteArray());
                }
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                done.complete(got.toByteArray());
            }
        };
    }
}
