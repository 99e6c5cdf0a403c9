package io.mancom.usb.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** In the QEMU guest: the errors of a real USB stack, a device that is absent and an interface claimed by another handle. */
class UsbLabErrorsTest {
    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void absentDeviceAndClaimedInterface() throws Exception {
        UsbLab.require();
        int port = UsbLab.freePort();
        try (UsbLab.Guest guest = UsbLab.boot(new UsbLab.Spec().serial(port).main(LabMain.class, "errors"));
             Socket device = guest.connectDevice(port, Duration.ofSeconds(30))) {
            int status = guest.awaitExit();
            String out = guest.output();
            assertThat(status).as("guest exit status; output:\n%s", out).isZero();
            assertThat(line(out, "ABSENT ")).startsWith("NO_DEVICE|").contains("no USB device 0403:6002 is plugged in")
                    .contains("0403:6001 on bus");
            assertThat(line(out, "BUSY ")).startsWith("BUSY|").contains("interface 0 of USB device 0403:6001 on bus")
                    .contains("is busy (LIBUSB_ERROR_BUSY)");
            assertThat(out).contains("OPENED after release");
            System.out.printf("USB lab errors: %.1f s%n", guest.seconds());
        }
    }

    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst().map(l -> l.substring(prefix.length()))
                .orElseThrow(() -> new AssertionError("no line " + prefix + " in:\n" + out));
    }
}
