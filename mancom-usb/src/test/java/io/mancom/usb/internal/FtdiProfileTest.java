package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.UsbAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;

import static io.mancom.usb.internal.UsbTestSupport.random;
import static io.mancom.usb.internal.UsbTestSupport.readExactly;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The {@code ftdi} profile: status bytes removed per packet, line set with FTDI's vendor requests, options. */
class FtdiProfileTest {
    private InMemoryUsb bus;
    private UsbOpener.Session session;
    private InMemoryUsb.Device device;
    private UsbLink link;

    @BeforeEach
    void plug() throws Exception {
        bus = InMemoryUsb.create(true);
        session = UsbTestSupport.session(bus);
        device = bus.plug(UsbTestSupport.echoDevice());
        device.receiver = b -> { }; // OUT data goes nowhere; the test plays the chip's IN side
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

    /** {@code data} as an FTDI chip sends it: packets of {@code maxPacket} bytes, each starting with 2 status bytes. */
    static byte[] packets(byte[] data, int maxPacket) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int per = maxPacket - 2;
        for (int i = 0; i < data.length; i += per) {
            out.write(0x31); // modem status: CTS, DSR, 1 as the chip and QEMU send it
            out.write(0x60); // line status: transmitter empty
            out.write(data, i, Math.min(per, data.length - i));
        }
        return out.toByteArray();
    }

    @Test
    void removesTheStatusBytesOfEveryPacketAcrossTransfers() throws Exception {
        link = UsbTestSupport.open(session, "usb://16c0:05dc?profile=ftdi");
        // 700 packets: three 16 KiB transfers (256 packets each) and a short last packet.
        byte[] data = random(699 * 62 + 17, 7);
        byte[] raw = packets(data, 64);
        assertThat(raw.length).isGreaterThan(2 * link.inTransferSize());
        device.send(raw);
        assertThat(readExactly(link, data.length)).isEqualTo(data);

        // A status-only packet (what an idle chip sends every latency period) reads as nothing.
        device.send(new byte[] {0x31, 0x60});
        byte[] tail = random(5, 8);
        device.send(packets(tail, 64));
        assertThat(readExactly(link, 5)).isEqualTo(tail);
    }

    @Test
    void stripWorksInPlaceOnPacketBoundaries() {
        ByteBuffer b = ByteBuffer.allocateDirect(16);
        b.put(new byte[] {9, 9, 1, 2, 3, 4, 9, 9, 5, 6, 7, 8, 9, 9, 10, 0});
        assertThat(FtdiProfile.strip(b, 15, 6)).isEqualTo(9);
        byte[] got = new byte[9];
        b.get(0, got);
        assertThat(got).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 10);
        assertThat(FtdiProfile.strip(ByteBuffer.allocateDirect(2), 2, 64)).isZero();
        assertThat(FtdiProfile.strip(ByteBuffer.allocateDirect(0), 0, 64)).isZero();
    }

    @Test
    void setsTheLineWithFtdiVendorRequestsAtOpen() throws Exception {
        link = UsbTestSupport.open(session, "usb://16c0:05dc?profile=ftdi&baud=9600&parity=even&stop=2&flow=rtscts&latency=16");
        List<InMemoryUsb.ControlRequest> r = device.controlRequests();
        assertThat(r).extracting(InMemoryUsb.ControlRequest::requestType).containsOnly(0x40);
        assertThat(r).extracting(q -> List.of(q.request(), q.value(), q.index())).containsExactly(
                List.of(0, 0, 1),            // reset
                List.of(1, 0x0303, 1),       // DTR and RTS up
                List.of(2, 0, 0x0101),       // RTS/CTS flow control
                List.of(3, 0x4138, 0),       // 9600 baud: divisor 312.5
                List.of(4, 0x1208, 1),       // 8 bits, even parity, 2 stop bits
                List.of(9, 16, 1));          // latency timer 16 ms
        assertThat(link.remote().toString()).contains("profile=ftdi");
    }

    @Test
    void defaultsAre115200Baud8N1() throws Exception {
        link = UsbTestSupport.open(session, "usb://16c0:05dc?profile=ftdi");
        assertThat(device.controlRequests()).extracting(q -> List.of(q.request(), q.value(), q.index())).containsExactly(
                List.of(0, 0, 1), List.of(1, 0x0303, 1), List.of(2, 0, 1), List.of(3, 0x001a, 0), List.of(4, 0x0008, 1),
                List.of(9, 2, 1));
    }

    @Test
    void baudDivisorsMatchTheChip() {
        assertThat(FtdiProfile.encodeDivisor(115_200)).isEqualTo(0x001a);
        assertThat(FtdiProfile.encodeDivisor(9600)).isEqualTo(0x4138);
        assertThat(FtdiProfile.encodeDivisor(3_000_000)).isZero();
        assertThat(FtdiProfile.encodeDivisor(2_000_000)).isEqualTo(1);
        assertThat(FtdiProfile.encodeDivisor(300)).isEqualTo(0x2710);
        for (int baud : new int[] {300, 1200, 9600, 19_200, 57_600, 115_200, 230_400, 460_800, 921_600, 1_000_000, 1_500_000}) {
            double actual = FtdiProfile.actualBaud(FtdiProfile.encodeDivisor(baud));
            assertThat(actual).as("baud %d", baud).isCloseTo(baud, within(baud * 0.03));
        }
        // The fraction's high bit goes to wIndex: 0.125 has code 3 (bits 14-15), 0.375 code 4 (wIndex bit 0).
        assertThat(FtdiProfile.encodeDivisor(3_000_000 * 8 / 83)).isEqualTo(10 | (4 << 14)); // 10.375
    }

    @Test
    void aDeviceThatRefusesTheRequestsIsAConfigErrorAndIsReleased() {
        device.controlStall = true;
        assertThatThrownBy(() -> UsbTestSupport.open(session, "usb://16c0:05dc?profile=ftdi"))
                .isInstanceOfSatisfying(ManComException.class, e -> {
                    assertThat(e.reason()).isEqualTo(Reason.CONFIG);
                    assertThat(e.getMessage()).startsWith("profile=ftdi: USB device 16c0:05dc on bus 1 address 2 refused FTDI request 0")
                            .contains("LIBUSB_ERROR_PIPE").contains("Is it an FTDI USB-UART chip?");
                });
        assertThat(device.claimed()).isFalse();
        assertThat(device.openHandles.get()).isZero();
    }

    @Test
    void optionsAreCheckedNamingTheKey() {
        assertThat(option("data=9")).startsWith("data=9 is out of range 7..8 (in usb://0403:6001?").endsWith("profile=ftdi&data=9)");
        assertThat(option("stop=3")).startsWith("stop=3 is not one of 1, 1.5, 2");
        assertThat(option("flow=hw")).startsWith("flow=hw is not one of none, rtscts, dtrdsr, xonxoff");
        assertThat(option("latency=0")).startsWith("latency=0 is out of range 1..255");
        assertThat(option("baud=fast")).startsWith("baud=fast is not a whole number");
    }

    private static String option(String o) {
        EndPoint e = EndPoint.parse("usb://0403:6001?profile=ftdi&" + o);
        try {
            FtdiProfile.of(e, (UsbAddress) e.address());
        } catch (ManComException x) {
            assertThat(x.reason()).isEqualTo(Reason.CONFIG);
            return x.getMessage();
        }
        throw new AssertionError("accepted " + o);
    }
}
