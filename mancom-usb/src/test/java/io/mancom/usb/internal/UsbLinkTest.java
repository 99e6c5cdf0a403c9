package io.mancom.usb.internal;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.mancom.usb.internal.UsbTestSupport.await;
import static io.mancom.usb.internal.UsbTestSupport.echoDevice;
import static io.mancom.usb.internal.UsbTestSupport.flush;
import static io.mancom.usb.internal.UsbTestSupport.open;
import static io.mancom.usb.internal.UsbTestSupport.random;
import static io.mancom.usb.internal.UsbTestSupport.readExactly;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Transfer scheduling, packets, stalls, loss and release of one link, against the in-memory bulk echo device. */
class UsbLinkTest {
    private InMemoryUsb bus;
    private UsbOpener.Session session;
    private InMemoryUsb.Device device;
    private UsbLink link;

    @BeforeEach
    void plug() throws Exception {
        bus = InMemoryUsb.create(true);
        session = UsbTestSupport.session(bus);
        device = bus.plug(echoDevice());
    }

    @AfterEach
    void close() {
        if (link != null) {
            link.close();
        }
        session.watcher().close();
        session.backend().close();
        bus.close();
    }

    private UsbLink open() throws ManComException {
        link = UsbTestSupport.open(session, "usb://16c0:05dc");
        return link;
    }

    @Test
    void keepsFourInTransfersOfWholePacketsInFlight() throws Exception {
        open();
        assertThat(link.inFlight()).isEqualTo(UsbLink.IN_TRANSFERS).isEqualTo(4);
        assertThat(device.inFlight()).isEqualTo(4);
        assertThat(link.inTransferSize()).isEqualTo(16 * 1024);
        assertThat(device.count(d -> d.badInLengths)).as("IN transfers that are not a whole number of packets").isZero();
    }

    @Test
    void transferSizesAreWholePacketsOfOddEndpoints() {
        assertThat(UsbLink.packetMultiple(64)).isEqualTo(16384);
        assertThat(UsbLink.packetMultiple(1023)).isEqualTo(16 * 1023);
        assertThat(UsbLink.packetMultiple(512)).isEqualTo(16384);
        assertThat(UsbLink.packetMultiple(32768)).isEqualTo(32768);
    }

    @Test
    void aShortPacketEndsATransferAndIsDeliveredAsItIs() throws Exception {
        open();
        link.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
        byte[] buf = new byte[4096];
        int n;
        while ((n = link.read(buf, 0, buf.length)) == 0) {
            Thread.onSpinWait();
        }
        assertThat(n).as("one short transfer, delivered at once").isEqualTo(5);
        assertThat(new String(buf, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("hello");
        assertThat(device.outSizes()).containsExactly(5);
    }

    @Test
    void aWriteOfWholePacketsEndsWithAZeroLengthPacket() throws Exception {
        open();
        byte[] data = random(128, 1);
        link.write(ByteBuffer.wrap(data));
        // The echo device answers only once the message has ended: without the ZLP it would wait.
        assertThat(readExactly(link, 128)).isEqualTo(data);
        assertThat(device.outSizes()).containsExactly(128, 0);
        assertThat(device.count(d -> d.zlpsReceived)).isEqualTo(1);
    }

    @Test
    void aLargeWriteIsSplitIntoTransfersOfWholePackets() throws Exception {
        open();
        byte[] data = random(40_001, 2);
        // Read while writing: the echo comes back while the write is still going.
        java.util.concurrent.CompletableFuture<byte[]> echoed = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return readExactly(link, data.length);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        link.write(ByteBuffer.wrap(data));
        assertThat(echoed.get()).isEqualTo(data);
        assertThat(device.outSizes()).containsExactly(16384, 16384, 7233);

        device.clearOutSizes();
        byte[] whole = random(16384 * 2 + 640, 3);
        echoed = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return readExactly(link, whole.length);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        link.write(ByteBuffer.wrap(whole));
        assertThat(echoed.get()).isEqualTo(whole);
        assertThat(device.outSizes()).containsExactly(16384, 16384, 640, 0);
    }

    @Test
    void completedTransfersWaitForTheReaderAndAreOnlyThenSubmittedAgain() throws Exception {
        open();
        for (int i = 0; i < 5; i++) {
            device.send(new byte[]{(byte) i});
        }
        // Four transfers took the first four messages; nobody reads, so none is resubmitted and
        // the fifth message stays in the device (which NAKs the host): backpressure.
        await("four completions", () -> link.inFlight() == 0);
        assertThat(device.inFlight()).isZero();
        byte[] one = new byte[16];
        for (int i = 0; i < 5; i++) {
            int n;
            while ((n = link.read(one, 0, one.length)) == 0) {
                Thread.onSpinWait();
            }
            assertThat(n).isEqualTo(1);
            assertThat(one[0]).isEqualTo((byte) i);
        }
        await("all four back in flight", () -> device.inFlight() == 4);
        assertThat(device.count(d -> d.maxInFlight)).isEqualTo(4);
    }

    @Test
    void aReadSmallerThanATransferTakesItInPieces() throws Exception {
        open();
        byte[] data = random(1000, 4);
        device.send(data);
        byte[] got = new byte[1000];
        int off = 0;
        while (off < 1000) {
            off += link.read(got, off, Math.min(7, 1000 - off));
        }
        assertThat(got).isEqualTo(data);
    }

    @Test
    void aStalledInEndpointIsClearedOnceAndReadingGoesOn() throws Exception {
        device.stallIn(1);
        open();
        byte[] buf = new byte[64];
        // Every transfer in flight stalled on the one halt: cleared once, all resubmitted.
        for (int i = 0; i < 4; i++) {
            assertThat(link.read(buf, 0, buf.length)).isZero();
        }
        assertThat(device.count(d -> d.haltsCleared)).isEqualTo(1);
        device.send("after".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(readExactly(link, 5), StandardCharsets.US_ASCII)).isEqualTo("after");
    }

    @Test
    void anEndpointThatKeepsStallingFailsTheLink() throws Exception {
        device.stallIn(100);
        open();
        byte[] buf = new byte[64];
        assertThatThrownBy(() -> {
            for (int i = 0; i < 100; i++) {
                link.read(buf, 0, buf.length);
            }
        }).isInstanceOfSatisfying(ManComException.class, e -> {
            assertThat(e.reason()).isEqualTo(Reason.LINK_FAILED);
            assertThat(e.getMessage()).contains("IN endpoint 0x81 of USB device 16c0:05dc on bus 1 address 2 stalled 4 times in a row");
        });
        assertThat(device.count(d -> d.haltsCleared)).isEqualTo(3);
    }

    @Test
    void aStalledOutEndpointIsClearedAndTheDataSentAgain() throws Exception {
        device.stallOut(1);
        open();
        link.write(ByteBuffer.wrap("again".getBytes(StandardCharsets.US_ASCII)));
        assertThat(new String(readExactly(link, 5), StandardCharsets.US_ASCII)).isEqualTo("again");
        assertThat(device.count(d -> d.haltsCleared)).isEqualTo(1);
        assertThat(device.outSizes()).containsExactly(5);
    }

    @Test
    void unpluggingFailsTheLinkOnceWithTheCause() throws Exception {
        open();
        List<IOException> failures = new CopyOnWriteArrayList<>();
        link.onFailure(failures::add);
        bus.unplug(device);
        await("the failure listener", () -> !failures.isEmpty());
        byte[] buf = new byte[64];
        IOException thrown = null;
        for (int i = 0; i < 10 && thrown == null; i++) {
            try {
                link.read(buf, 0, buf.length);
            } catch (IOException e) {
                thrown = e;
            }
        }
        // Both the transfers' NO_DEVICE and the departure event came through; the listener heard one.
        flush((InMemoryUsb.Session) session.backend());
        assertThat(failures).hasSize(1);
        assertThat(thrown).isSameAs(failures.get(0));
        assertThat((ManComException) thrown).satisfies(e -> {
            assertThat(e.reason()).isEqualTo(Reason.LINK_FAILED);
            assertThat(e.getMessage()).isEqualTo("USB device 16c0:05dc on bus 1 address 2 was unplugged (or reset by the host);"
                    + " the service opens it again when it returns");
        });
        assertThatThrownBy(() -> link.write(ByteBuffer.wrap(new byte[1]))).isSameAs(thrown);
    }

    @Test
    void closingCancelsTransfersReleasesTheInterfaceAndReattachesTheKernelDriver() throws Exception {
        device.kernelDriverBound = true;
        open();
        assertThat(device.claimed()).isTrue();
        assertThat(device.kernelDriverBound).as("detached while claimed").isFalse();
        assertThat(device.count(d -> d.detaches)).isEqualTo(1);
        link.close();
        assertThat(device.inFlight()).isZero();
        assertThat(device.claimed()).isFalse();
        assertThat(device.count(d -> d.releases)).isEqualTo(1);
        assertThat(device.count(d -> d.reattaches)).isEqualTo(1);
        assertThat(device.kernelDriverBound).isTrue();
        assertThat(device.openHandles.get()).isZero();
        assertThat(session.links()).isEmpty();
        assertThat(link.read(new byte[1], 0, 1)).isEqualTo(-1);
        assertThatThrownBy(() -> link.write(ByteBuffer.wrap(new byte[1])))
                .isInstanceOfSatisfying(ManComException.class, e -> assertThat(e.reason()).isEqualTo(Reason.CLOSED));
        link.close(); // idempotent
    }
}
