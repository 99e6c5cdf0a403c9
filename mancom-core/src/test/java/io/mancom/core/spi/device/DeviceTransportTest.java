package io.mancom.core.spi.device;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.SerialAddress;
import io.mancom.TransportType;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.spi.Listener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The device transport hands each listener an opener of its own and closes them before what they share. */
class DeviceTransportTest {
    private static final Duration T = Duration.ofSeconds(30);
    private static final EndPoint A = EndPoint.of(SerialAddress.of("/dev/ttyTEST0"));
    private static final EndPoint B = EndPoint.of(SerialAddress.of("/dev/ttyTEST1"));
    private static final ServiceSettings.Reconnect FAST = new ServiceSettings.Reconnect(true, Duration.ofMillis(20), Duration.ofMillis(200));
    private final TestRuntime runtime = new TestRuntime();
    private final List<String> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        runtime.close();
    }

    /** Openers that record who opened and closed what; devices are never there. */
    private final class Recording implements DeviceOpeners {
        @Override
        public DeviceOpener forListener(EndPoint endpoint) {
            String name = "listener " + endpoint;
            return new DeviceOpener() {
                @Override
                public DeviceLink open(EndPoint ep) throws ManComException {
                    events.add("open by " + name);
                    throw new ManComException(Reason.NO_DEVICE, ep + " is not plugged in");
                }

                @Override
                public void close() {
                    events.add("close " + name);
                }
            };
        }

        @Override
        public DeviceOpener forClient(EndPoint endpoint) {
            return ep -> {
                events.add("open by client " + ep);
                throw new ManComException(Reason.NO_DEVICE, ep + " is not plugged in");
            };
        }

        @Override
        public void close() {
            events.add("close openers");
        }
    }

    @Test
    void eachListenerGetsItsOwnOpenerAndClosingTheTransportClosesThemBeforeWhatTheyShare() throws Exception {
        DeviceTransport transport = new DeviceTransport(TransportType.SERIAL, runtime, new Recording(), DeviceChannel.Options.DEFAULT);
        Listener a = transport.listen(A, new TestSink(A, FAST, () -> new Recorder(true)));
        transport.listen(B, new TestSink(B, FAST, () -> new Recorder(true)));
        io.mancom.testkit.Await.until("both listeners to try", () -> events.contains("open by listener " + A)
                && events.contains("open by listener " + B));
        a.close(); // a service unregistered: its opener goes, the other stays
        assertThat(events).contains("close listener " + A).doesNotContain("close listener " + B, "close openers");

        assertThatThrownBy(() -> transport.connect(A, new TestSink(A, FAST, () -> new Recorder(true)), T)
                .toCompletableFuture().get(T.toSeconds(), TimeUnit.SECONDS))
                .hasMessageContaining("is not plugged in");
        assertThat(events).contains("open by client " + A);

        transport.close();
        transport.close(); // idempotent
        List<String> closes = events.stream().filter(e -> e.startsWith("close")).toList();
        assertThat(closes).containsExactly("close listener " + A, "close listener " + B, "close openers");
        assertThatThrownBy(() -> transport.listen(A, new TestSink(A, FAST, () -> new Recorder(true))))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void oneOpenerThatNeverWaitsIsSharedAndNeverClosedByAListener() throws Exception {
        List<String> closed = new CopyOnWriteArrayList<>();
        DeviceOpener shared = new DeviceOpener() {
            @Override
            public DeviceLink open(EndPoint endpoint) throws ManComException {
                throw new ManComException(Reason.NO_DEVICE, endpoint + " is not plugged in");
            }

            @Override
            public void close() {
                closed.add("shared");
            }
        };
        DeviceOpeners openers = DeviceOpeners.of(shared);
        assertThat(openers.forClient(A)).isSameAs(shared);
        openers.forListener(A).close();
        openers.close();
        assertThat(closed).isEmpty();
    }
}
