package io.mancom.usb.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.testkit.Await;

import java.io.IOException;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Shared pieces of the USB tests. */
final class UsbTestSupport {
    static final int VID = 0x16c0;
    static final int PID = 0x05dc;
    static final Duration T = Duration.ofSeconds(10);
    static final UsbErrors ERRORS = new UsbErrors("bob", "Linux", java.nio.file.Path.of("/nonexistent/dev/bus/usb"));

    private UsbTestSupport() {
    }

    static InMemoryUsb.Device echoDevice() {
        return new InMemoryUsb.Device(VID, PID, "A1", 64);
    }

    /** A session of the bus with a watcher, as the transport would make it. */
    static UsbOpener.Session session(InMemoryUsb bus) throws UsbBackendException {
        InMemoryUsb.Session s = bus.session();
        return new UsbOpener.Session(s, new DeviceWatcher(s, true, Duration.ofMillis(20)), ConcurrentHashMap.newKeySet());
    }

    static UsbLink open(UsbOpener.Session s, String uri) throws ManComException {
        return UsbOpener.forClient(() -> s, ERRORS).open(EndPoint.parse(uri));
    }

    static byte[] readExactly(UsbLink link, int n) throws IOException {
        byte[] out = new byte[n];
        int got = 0;
        long deadline = System.nanoTime() + T.toNanos();
        while (got < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("read " + got + " of " + n + " bytes in " + T);
            }
            int r = link.read(out, got, n - got);
            if (r < 0) {
                throw new AssertionError("end of stream after " + got + " of " + n + " bytes");
            }
            got += r;
        }
        return out;
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Waits for a condition that another thread makes true (a transfer completing on the event thread). */
    static void await(String what, BooleanSupplier condition) {
        Await.until(what, T, condition);
    }

    /** Waits until the session's event thread has run everything queued before this call. */
    static void flush(InMemoryUsb.Session s) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        s.run(done::countDown);
        if (!done.await(T.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("event thread stuck");
        }
    }

    static void closeAll(Set<UsbLink> links) {
        links.forEach(UsbLink::close);
    }
}
