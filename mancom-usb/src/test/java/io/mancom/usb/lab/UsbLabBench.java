package io.mancom.usb.lab;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A benchmark, not a test (not matched by surefire's default includes): throughput through the
 * emulated FTDI device in the guest, ManCom ({@code profile=ftdi}) against a plain usb4java loop,
 * with the host echoing. Run with
 * {@code mvn -B -o -pl mancom-usb test -Dtest=UsbLabBench -Dlab.bench.bytes=2097152}.
 */
class UsbLabBench {
    @Test
    void throughputRatio() throws Exception {
        UsbLab.require();
        int bytes = Integer.getInteger("lab.bench.bytes", 1 << 21);
        int port = UsbLab.freePort();
        try (UsbLab.Guest guest = UsbLab.boot(new UsbLab.Spec().serial(port).timeout(Duration.ofMinutes(6))
                .main(LabMain.class, "bench", String.valueOf(bytes)));
             Socket device = guest.connectDevice(port, Duration.ofSeconds(30))) {
            Thread echo = new Thread(() -> {
                try (InputStream in = device.getInputStream(); OutputStream out = device.getOutputStream()) {
                    in.transferTo(out);
                } catch (Exception e) {
                    // the guest powered off
                }
            }, "host-echo");
            echo.setDaemon(true);
            echo.start();
            int status = guest.awaitExit();
            System.out.println(guest.output().lines().filter(l -> l.startsWith("BENCH")).reduce("", (a, b) -> a + b + "\n"));
            assertThat(status).as("output:\n%s", guest.output()).isZero();
        }
    }
}
