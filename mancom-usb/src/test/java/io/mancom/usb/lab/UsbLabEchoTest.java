package io.mancom.usb.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * In the QEMU guest (real xHCI, usbcore, usbfs, libusb, usb4java): a ManCom service on the
 * emulated FTDI device with {@code profile=ftdi} echoes 1 MiB, byte-exact, to a plain socket on
 * the host side of the device.
 */
class UsbLabEchoTest {
    private static final int MIB = 1 << 20;

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aServiceOnTheFtdiDeviceEchoesAMegabyteToTheHost() throws Exception {
        UsbLab.require();
        int port = UsbLab.freePort();
        byte[] payload = new byte[MIB];
        new Random(11).nextBytes(payload);
        UsbLab.Spec spec = new UsbLab.Spec().serial(port)
                .main(LabMain.class, "echo", "usb://0403:6001?profile=ftdi&baud=3000000", String.valueOf(MIB));
        try (UsbLab.Guest guest = UsbLab.boot(spec); Socket device = guest.connectDevice(port, Duration.ofSeconds(30))) {
            assertThat(guest.awaitOutput("READY", Duration.ofSeconds(120))).as("the service opened the device; output:\n%s",
                    guest.output()).isTrue();
            double ready = guest.seconds();
            InputStream in = device.getInputStream();
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                try {
                    return in.readNBytes(MIB);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            long t0 = System.nanoTime();
            OutputStream out = device.getOutputStream();
            out.write(payload);
            out.flush();
            byte[] got = back.get(150, TimeUnit.SECONDS);
            double secs = (System.nanoTime() - t0) / 1e9;
            assertThat(got.length).isEqualTo(MIB);
            assertThat(got).as("echoed byte-exact").isEqualTo(payload);
            int status = guest.awaitExit();
            System.out.printf("USB lab echo: guest ready after %.1f s, 1 MiB echoed in %.1f s (%.0f KiB/s each way),"
                    + " total %.1f s%n", ready, secs, 1024 / secs, guest.seconds());
            assertThat(status).as("guest exit status; output:\n%s", guest.output()).isZero();
            assertThat(guest.output()).contains("ACCEPTED usb://0403:6001?").contains("ECHOED " + MIB);
        }
    }
}
