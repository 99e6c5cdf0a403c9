package io.mancom.usb.lab;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The mux across transports, in the QEMU guest: two services ({@code upper}, {@code reverse})
 * share the emulated FTDI device {@code usb://0403:6001?profile=ftdi} with the mux on (responder)
 * in the guest; on the host a ManCom runtime reaches both by name over the device's TCP socket
 * ({@code tcp://}, mux on, the dialer is the initiator). One program on USB, the other on TCP, the
 * same mux between them.
 *
 * <p>The test holds the chardev's socket itself (connecting plugs the device in) and joins the
 * host runtime's {@code tcp://} connection to it once the guest has opened the device: the FTDI
 * profile resets the chip at open ({@code SIO_RESET}), which drops what QEMU buffered before, so
 * bytes the host runtime sent while the guest was still enumerating would be lost.
 */
class UsbLabMuxTest {
    private static final Duration T = Duration.ofSeconds(30);

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void twoServicesOnTheUsbLinkAreReachedByNameFromTcp() throws Exception {
        UsbLab.require();
        int port = UsbLab.freePort();
        UsbLab.Spec spec = new UsbLab.Spec().serial(port)
                .main(LabMain.class, "mux", "usb://0403:6001?profile=ftdi&baud=3000000");
        try (UsbLab.Guest guest = UsbLab.boot(spec); Socket device = guest.connectDevice(port, T);
             Splice splice = new Splice(device)) {
            assertThat(guest.awaitOutput("READY", Duration.ofSeconds(120))).as("the services opened the device; output:\n%s",
                    guest.output()).isTrue();
            double ready = guest.seconds();
            String config = "";
            for (String n : new String[]{"upper", "reverse"}) {
                config += "mancom.services." + n + " { endpoint = \"tcp://127.0.0.1:" + splice.port()
                        + "\", mux { enabled = on, role = initiator } }\n";
            }
            long t0 = System.nanoTime();
            try (ManCom host = TestManCom.start(config)) {
                try (BlockingConnection up = host.connect("upper"); BlockingConnection rev = host.connect("reverse")) {
                    up.write("hello usb".getBytes(StandardCharsets.UTF_8));
                    rev.write("hello usb".getBytes(StandardCharsets.UTF_8));
                    assertThat(text(up, 9)).isEqualTo("HELLO USB");
                    assertThat(text(rev, 9)).isEqualTo("bsu olleh");
                    // Interleaved, a second round on both streams.
                    rev.write("abc".getBytes(StandardCharsets.UTF_8));
                    up.write("xyz".getBytes(StandardCharsets.UTF_8));
                    assertThat(text(rev, 3)).isEqualTo("cba");
                    assertThat(text(up, 3)).isEqualTo("XYZ");
                }
                double exchanged = (System.nanoTime() - t0) / 1e9;
                int status = guest.awaitExit();
                String out = guest.output();
                assertThat(status).as("guest exit status; output:\n%s", out).isZero();
                Set<String> links = new TreeSet<>();
                out.lines().filter(l -> l.startsWith("STREAM ")).forEach(l -> links.add(l.substring(l.indexOf(' ', 7) + 1)));
                assertThat(out).contains("STREAM upper usb://0403:6001?").contains("STREAM reverse usb://0403:6001?");
                assertThat(links).as("both streams came over the one USB link; output:\n%s", out).hasSize(1);
                assertThat(splice.accepted()).as("the host runtime dialed the device's socket once").isEqualTo(1);
                System.out.printf("USB lab mux: guest ready after %.1f s, both services answered in %.1f s, total %.1f s%n",
                        ready, exchanged, guest.seconds());
            }
        }
    }

    private static String text(BlockingConnection c, int n) throws IOException {
        byte[] b = new byte[n];
        int got = 0;
        while (got < n) {
            int r = c.read(b, got, n - got, T);
            if (r < 0) {
                throw new AssertionError("closed after " + got + " of " + n);
            }
            got += r;
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    /**
     * A local port whose connections are joined to the device's socket (one at a time; what the
     * device sent before a connection arrives waits in the socket).
     */
    static final class Splice implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        private final Socket device;
        private volatile int accepted;
        private volatile Socket peer;

        Splice(Socket device) throws IOException {
            this.device = device;
            Thread t = new Thread(() -> {
                try {
                    Socket s = server.accept();
                    s.setTcpNoDelay(true);
                    peer = s;
                    accepted++;
                    pipe(s.getInputStream(), device.getOutputStream());
                    pipe(device.getInputStream(), s.getOutputStream());
                } catch (IOException ignored) {
                    // closed
                }
            }, "lab-splice");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        int accepted() {
            return accepted;
        }

        private static void pipe(InputStream in, OutputStream out) {
            Thread t = new Thread(() -> {
                byte[] b = new byte[8192];
                int n;
                try {
                    while ((n = in.read(b)) > 0) {
                        out.write(b, 0, n);
                        out.flush();
                    }
                } catch (IOException ignored) {
                    // closed
                }
            }, "lab-splice-pipe");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws IOException {
            server.close();
            Socket p = peer;
            if (p != null) {
                p.close();
            }
        }
    }
}
