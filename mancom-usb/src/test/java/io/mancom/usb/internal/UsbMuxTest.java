package io.mancom.usb.internal;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

import static io.mancom.usb.internal.UsbEndToEndTest.readExactly;
import static io.mancom.usb.internal.UsbTestSupport.echoDevice;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two services with {@code mux = on} sharing one USB link, reached by name from a ManCom peer. The
 * in-memory device is a pipe here: what the host writes goes to a TCP socket, what comes from the
 * socket the device sends to the host; the peer dials that socket with the same two services.
 */
class UsbMuxTest {
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private static String services(String endpoint, String... names) {
        StringBuilder sb = new StringBuilder();
        for (String n : names) {
            sb.append("mancom.services.").append(n).append(" { endpoint = \"").append(endpoint).append("\", mux = on }\n");
        }
        return sb.toString();
    }

    @Test
    void twoServicesShareTheUsbLinkAndAreReachedByName() throws Exception {
        InMemoryUsb bus = InMemoryUsb.create(true);
        resources.add(bus);
        InMemoryUsb.Device device = echoDevice();
        Bridge bridge = new Bridge(device);
        resources.add(bridge);
        bus.plug(device);

        ManCom usbSide = TestManCom.start(bus.backendConfig() + services("usb://16c0:05dc", "upper", "reverse"));
        resources.add(usbSide);
        Set<String> links = ConcurrentHashMap.newKeySet();
        usbSide.registerDataReceiver("upper", (c, d) -> {
            links.add(c.remote().toString());
            c.write(text(d).toUpperCase().getBytes(StandardCharsets.UTF_8));
        });
        usbSide.registerDataReceiver("reverse", (c, d) -> {
            links.add(c.remote().toString());
            c.write(new StringBuilder(text(d)).reverse().toString().getBytes(StandardCharsets.UTF_8));
        });
        usbSide.awaitReady(UsbTestSupport.T);

        ManCom peer = TestManCom.start(services("tcp://127.0.0.1:" + bridge.port(), "upper", "reverse"));
        resources.add(peer);
        try (BlockingConnection up = peer.connect("upper"); BlockingConnection rev = peer.connect("reverse")) {
            up.write("hello".getBytes(StandardCharsets.UTF_8));
            rev.write("hello".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(readExactly(up, 5), StandardCharsets.UTF_8)).isEqualTo("HELLO");
            assertThat(new String(readExactly(rev, 5), StandardCharsets.UTF_8)).isEqualTo("olleh");
        }
        assertThat(links).as("both streams came over the one USB link").hasSize(1);
        assertThat(device.outSizes()).as("the mux frames went through the device").isNotEmpty();
    }

    private static String text(ByteBuffer d) {
        byte[] b = new byte[d.remaining()];
        d.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /**
     * Joins the device's far side to one TCP connection: OUT data is queued until the peer has
     * connected, then written to it; what the peer sends, the device sends to the host.
     */
    static final class Bridge implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        private final BlockingQueue<byte[]> toPeer = new LinkedBlockingQueue<>();
        private volatile Socket socket;

        Bridge(InMemoryUsb.Device device) throws IOException {
            device.receiver = toPeer::add;
            Thread t = new Thread(() -> {
                try (Socket s = server.accept()) {
                    socket = s;
                    Thread writer = new Thread(() -> pump(s), "bridge-to-peer");
                    writer.setDaemon(true);
                    writer.start();
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        device.send(Arrays.copyOf(buf, n));
                    }
                } catch (IOException ignored) {
                    // closed by the test
                }
            }, "bridge-from-peer");
            t.setDaemon(true);
            t.start();
        }

        private void pump(Socket s) {
            try {
                OutputStream out = s.getOutputStream();
                while (!s.isClosed()) {
                    out.write(toPeer.take());
                    out.flush();
                }
            } catch (IOException | InterruptedException ignored) {
                // closed by the test
            }
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            Socket s = socket;
            if (s != null) {
                s.close();
            }
            server.close();
        }
    }
}
