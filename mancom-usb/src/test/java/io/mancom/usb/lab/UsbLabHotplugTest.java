package io.mancom.usb.lab;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Unplugging and plugging the emulated FTDI device through QEMU's monitor (QMP
 * {@code device_del} / {@code device_add}), in the guest: a service with {@code reconnect} on gets
 * its one close event with the cause, then opens the device again when it returns and fires a new
 * accept.
 */
class UsbLabHotplugTest {
    private static final String ADD = "{\"execute\":\"device_add\",\"arguments\":"
            + "{\"driver\":\"usb-serial\",\"bus\":\"xhci.0\",\"chardev\":\"c0\",\"id\":\"ftdi0\"}}";
    private static final String DEL = "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"ftdi0\"}}";

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void unplugClosesOnceWithTheCauseAndReplugAcceptsAgain() throws Exception {
        UsbLab.require();
        int port = UsbLab.freePort();
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "lab-qmp");
        Path sock = dir.resolve("qmp.sock");
        String mode = System.getProperty("lab.hotplug", "auto");
        UsbLab.Spec spec = new UsbLab.Spec().serial(port).qmp(sock)
                // Which path delivered arrivals and departures: the watcher's debug lines name the thread.
                .jvmOption("-Dorg.slf4j.simpleLogger.log.io.mancom.usb.internal=debug")
                .jvmOption("-Dorg.slf4j.simpleLogger.showThreadName=true")
                .env("LIBUSB_DEBUG", System.getProperty("lab.libusb.debug", "0"))
                .main(LabMain.class, "hotplug", "usb://0403:6001?profile=ftdi", mode, "1");
        try (UsbLab.Guest guest = UsbLab.boot(spec); Socket device = guest.connectDevice(port, Duration.ofSeconds(30));
             Qmp qmp = Qmp.connect(sock, Duration.ofSeconds(30))) {
            assertThat(guest.awaitOutput("ACCEPT 1 ", Duration.ofSeconds(120))).as("the service opened the device; output:\n%s",
                    guest.output()).isTrue();
            double ready = guest.seconds();

            qmp.execute(DEL, Duration.ofSeconds(10));
            qmp.awaitEvent("DEVICE_DELETED", Duration.ofSeconds(20));
            long t0 = System.nanoTime();
            assertThat(guest.awaitOutput("CLOSE 1 ", Duration.ofSeconds(30))).as("closed after device_del; output:\n%s",
                    guest.output()).isTrue();
            double closedAfter = (System.nanoTime() - t0) / 1e9;

            qmp.execute(ADD, Duration.ofSeconds(10));
            long t1 = System.nanoTime();
            assertThat(guest.awaitOutput("ACCEPT 2 ", Duration.ofSeconds(60))).as("accepted again after device_add; output:\n%s",
                    guest.output()).isTrue();
            double acceptedAfter = (System.nanoTime() - t1) / 1e9;

            int status = guest.awaitExit();
            String out = guest.output();
            assertThat(status).as("guest exit status; output:\n%s", out).isZero();
            // (the runtime's own close at the end, after DONE, closes the second connection)
            List<String> closes = out.substring(0, Math.max(0, out.indexOf("DONE "))).lines()
                    .filter(l -> l.startsWith("CLOSE ")).toList();
            assertThat(closes).as("exactly one close event; output:\n%s", out).hasSize(1);
            assertThat(closes.get(0)).startsWith("CLOSE 1 LINK_FAILED|")
                    .contains("USB device 0403:6001 on bus").contains("was unplugged");
            assertThat(out).contains("ACCEPT 2 usb://0403:6001?").contains("DONE accepts 2 closes 1");
            String path = out.contains("device changes by polling") ? "polling" : "libusb hotplug events";
            System.out.printf("USB lab hotplug (hotplug = %s, arrivals and departures by %s): first accept after %.1f s,"
                    + " close %.1f s after device_del, accept %.1f s after device_add, total %.1f s%n",
                    mode, path, ready, closedAfter, acceptedAfter, guest.seconds());
            System.out.println(out.lines().filter(l -> l.contains("DeviceWatcher") || l.contains("device changes by"))
                    .reduce("", (a, b) -> a + b + "\n"));
        } finally {
            Files.deleteIfExists(sock);
            Files.deleteIfExists(dir);
        }
    }
}
