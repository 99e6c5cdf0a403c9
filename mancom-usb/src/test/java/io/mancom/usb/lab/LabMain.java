package io.mancom.usb.lab;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.testkit.TestManCom;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Programs the lab tests run inside the guest (a plain main, so that the host asserts on its
 * output and exit status). Each prints {@code READY} when its services are bound and exits 0
 * when its job is done, 3 when it timed out.
 *
 * <ul>
 *   <li>{@code echo URI BYTES}: a service on URI that echoes what it receives; exits after
 *       echoing BYTES bytes.</li>
 *   <li>{@code errors}: connects to a device that is absent, then to the FTDI device while
 *       another handle (plain usb4java) has claimed its interface; prints {@code ABSENT} and
 *       {@code BUSY} lines with the failures' reasons and messages.</li>
 *   <li>{@code mux URI}: services {@code upper} and {@code reverse} share URI with
 *       {@code mux { enabled = on, role = responder }}; each answers what a stream sends
 *       (upper-cased, reversed) and prints {@code STREAM service remote} for it; exits once a
 *       stream of each has closed.</li>
 *   <li>{@code hotplug URI MODE CYCLES}: a service on URI with {@code reconnect} on and
 *       {@code mancom.usb.hotplug = MODE}; prints {@code ACCEPT n remote} for every connection and
 *       {@code CLOSE n REASON|message} for every close; exits after accept CYCLES + 1.</li>
 * </ul>
 */
public final class LabMain {
    /** In-guest transport settings: the guest has no udevd, so arrivals are found by polling. */
    static final String USB = "mancom.usb { hotplug = poll, poll-interval = 100ms }\n";

    private LabMain() {
    }

    public static void main(String[] args) throws Exception {
        int status = switch (args[0]) {
            case "echo" -> echo(args[1], Long.parseLong(args[2]));
            case "errors" -> errors();
            case "bench" -> bench(Integer.parseInt(args[1]));
            case "mux" -> mux(args[1]);
            case "hotplug" -> hotplug(args[1], args[2], Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException("unknown lab program " + args[0]);
        };
        System.out.flush();
        System.exit(status);
    }

    private static int echo(String uri, long bytes) throws Exception {
        AtomicLong echoed = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        long t0 = System.nanoTime();
        try (ManCom m = TestManCom.start(USB + "mancom.services.echo { endpoint = \"" + uri + "\" }\n")) {
            m.registerAcceptor("echo", c -> System.out.println("ACCEPTED " + c.remote()));
            m.registerDataReceiver("echo", new DataReceiver() {
                @Override
                public void onData(Connection c, ByteBuffer data) {
                    int n = data.remaining();
                    c.write(data).thenRun(() -> {
                        if (echoed.addAndGet(n) >= bytes) {
                            done.countDown();
                        }
                    });
                }

                @Override
                public void onClose(Connection c, Throwable cause) {
                    System.out.println("CLOSED " + cause);
                }
            });
            m.awaitReady(Duration.ofSeconds(60));
            System.out.println("READY");
            if (!done.await(150, TimeUnit.SECONDS)) {
                System.out.println("TIMEOUT echoed " + echoed.get());
                return 3;
            }
            System.out.printf("ECHOED %d in %.2f s%n", echoed.get(), (System.nanoTime() - t0) / 1e9);
            return 0;
        }
    }

    private static int errors() throws Exception {
        String config = USB + "mancom.services.absent { endpoint = \"usb://0403:6002\" }\n"
                + "mancom.services.taken { endpoint = \"usb://0403:6001?profile=ftdi\" }\n";
        try (ManCom m = TestManCom.start(config)) {
            System.out.println("ABSENT " + failure(() -> m.connect("absent").close()));
            org.usb4java.Context ctx = new org.usb4java.Context();
            check(org.usb4java.LibUsb.init(ctx), "init");
            org.usb4java.DeviceHandle h = org.usb4java.LibUsb.openDeviceWithVidPid(ctx, (short) 0x0403, (short) 0x6001);
            if (h == null) {
                System.out.println("NO FTDI DEVICE");
                return 4;
            }
            check(org.usb4java.LibUsb.claimInterface(h, 0), "claim");
            System.out.println("BUSY " + failure(() -> m.connect("taken").close()));
            org.usb4java.LibUsb.releaseInterface(h, 0);
            org.usb4java.LibUsb.close(h);
            org.usb4java.LibUsb.exit(ctx);
            // Released: now it opens.
            m.connect("taken").close();
            System.out.println("OPENED after release");
            return 0;
        }
    }

    private static void check(int r, String what) {
        if (r < 0) {
            throw new IllegalStateException(what + ": " + org.usb4java.LibUsb.errorName(r));
        }
    }

    interface Attempt {
        void run() throws Exception;
    }

    /** "REASON|message" of the attempt's failure, or "no failure". */
    private static String failure(Attempt a) {
        try {
            a.run();
            return "no failure";
        } catch (io.mancom.ManComException e) {
            return e.reason() + "|" + e.getMessage().replace('\n', ' ');
        } catch (Exception e) {
            return e.getClass().getName() + "|" + e.getMessage();
        }
    }

    /**
     * Throughput through the device with the host echoing: a plain usb4java loop of synchronous
     * bulk transfers (status bytes stripped as the profile does), then a ManCom blocking client on
     * {@code profile=ftdi}; BYTES each way for each.
     */
    private static int bench(int bytes) throws Exception {
        byte[] payload = new byte[bytes];
        new java.util.Random(3).nextBytes(payload);
        double raw = rawLoop(payload);
        System.out.printf("BENCH usb4java %.1f KiB/s%n", raw);
        double mancom;
        try (ManCom m = TestManCom.start(USB + "mancom.services.dev { endpoint = \"usb://0403:6001?profile=ftdi&baud=3000000\" }\n");
             io.mancom.BlockingConnection c = m.connect("dev")) {
            long t0 = System.nanoTime();
            Thread w = new Thread(() -> {
                try {
                    for (int i = 0; i < bytes; i += 16384) {
                        c.write(payload, i, Math.min(16384, bytes - i));
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            w.start();
            byte[] got = new byte[bytes];
            int n = 0;
            while (n < bytes) {
                int r = c.read(got, n, bytes - n, Duration.ofSeconds(30));
                if (r < 0) {
                    throw new IllegalStateException("end of stream after " + n);
                }
                n += r;
            }
            w.join();
            mancom = bytes / 1024.0 / ((System.nanoTime() - t0) / 1e9);
            if (!java.util.Arrays.equals(got, payload)) {
                throw new IllegalStateException("ManCom data differs");
            }
        }
        System.out.printf("BENCH mancom %.1f KiB/s%n", mancom);
        System.out.printf("BENCH ratio %.3f%n", mancom / raw);
        return 0;
    }

    private static double rawLoop(byte[] payload) throws Exception {
        org.usb4java.Context ctx = new org.usb4java.Context();
        check(org.usb4java.LibUsb.init(ctx), "init");
        org.usb4java.DeviceHandle h = null;
        for (int i = 0; i < 200 && h == null; i++) { // bounded wait for the device to enumerate
            h = org.usb4java.LibUsb.openDeviceWithVidPid(ctx, (short) 0x0403, (short) 0x6001);
            if (h == null) {
                Thread.sleep(100);
            }
        }
        if (h == null) {
            throw new IllegalStateException("no 0403:6001");
        }
        check(org.usb4java.LibUsb.claimInterface(h, 0), "claim");
        org.usb4java.DeviceHandle dh = h;
        int bytes = payload.length;
        long t0 = System.nanoTime();
        Thread w = new Thread(() -> {
            ByteBuffer out = ByteBuffer.allocateDirect(16384);
            java.nio.IntBuffer sent = ByteBuffer.allocateDirect(4).order(java.nio.ByteOrder.nativeOrder()).asIntBuffer();
            for (int i = 0; i < bytes; i += 16384) {
                int n = Math.min(16384, bytes - i);
                ByteBuffer b = out.clear().put(payload, i, n).flip().slice();
                check(org.usb4java.LibUsb.bulkTransfer(dh, (byte) 0x02, b, sent, 0), "OUT");
            }
        });
        w.start();
        ByteBuffer in = ByteBuffer.allocateDirect(16384);
        java.nio.IntBuffer got = ByteBuffer.allocateDirect(4).order(java.nio.ByteOrder.nativeOrder()).asIntBuffer();
        byte[] back = new byte[bytes];
        int n = 0;
        while (n < bytes) {
            check(org.usb4java.LibUsb.bulkTransfer(dh, (byte) 0x81, in, got, 0), "IN");
            int len = got.get(0);
            for (int p = 0; p < len; p += 64) {
                int k = Math.min(p + 64, len) - (p + 2);
                if (k > 0) {
                    in.get(p + 2, back, n, k);
                    n += k;
                }
            }
        }
        w.join();
        double rate = bytes / 1024.0 / ((System.nanoTime() - t0) / 1e9);
        org.usb4java.LibUsb.releaseInterface(h, 0);
        org.usb4java.LibUsb.close(h);
        org.usb4java.LibUsb.exit(ctx);
        if (!java.util.Arrays.equals(back, payload)) {
            throw new IllegalStateException("usb4java data differs");
        }
        return rate;
    }

    private static int mux(String uri) throws Exception {
        StringBuilder config = new StringBuilder(USB);
        for (String n : new String[]{"upper", "reverse"}) {
            config.append("mancom.services.").append(n).append(" { endpoint = \"").append(uri)
                    .append("\", mux { enabled = on, role = responder } }\n");
        }
        CountDownLatch closed = new CountDownLatch(2);
        try (ManCom m = TestManCom.start(config.toString())) {
            for (String n : new String[]{"upper", "reverse"}) {
                m.registerAcceptor(n, c -> System.out.println("STREAM " + n + " " + c.remote()));
                m.registerDataReceiver(n, new DataReceiver() {
                    @Override
                    public void onData(Connection c, ByteBuffer data) {
                        byte[] b = new byte[data.remaining()];
                        data.get(b);
                        String s = new String(b, java.nio.charset.StandardCharsets.UTF_8);
                        String answer = n.equals("upper") ? s.toUpperCase() : new StringBuilder(s).reverse().toString();
                        c.write(answer.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    }

                    @Override
                    public void onClose(Connection c, Throwable cause) {
                        System.out.println("CLOSED " + n + " " + cause);
                        closed.countDown();
                    }
                });
            }
            m.awaitReady(Duration.ofSeconds(60));
            System.out.println("READY");
            if (!closed.await(150, TimeUnit.SECONDS)) {
                System.out.println("TIMEOUT");
                return 3;
            }
            return 0;
        }
    }

    private static int hotplug(String uri, String mode, int cycles) throws Exception {
        java.util.concurrent.atomic.AtomicInteger accepts = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger closes = new java.util.concurrent.atomic.AtomicInteger();
        CountDownLatch done = new CountDownLatch(1);
        String config = "mancom.usb { hotplug = " + mode + ", poll-interval = 100ms }\n"
                + "mancom.services.dev { endpoint = \"" + uri + "\", reconnect = on }\n";
        try (ManCom m = TestManCom.start(config)) {
            m.registerAcceptor("dev", c -> {
                int n = accepts.incrementAndGet();
                System.out.println("ACCEPT " + n + " " + c.remote());
                if (n > cycles) {
                    done.countDown();
                }
            });
            m.registerDataReceiver("dev", new DataReceiver() {
                @Override
                public void onData(Connection c, ByteBuffer data) {
                    data.position(data.limit());
                }

                @Override
                public void onClose(Connection c, Throwable cause) {
                    String what = cause instanceof io.mancom.ManComException e
                            ? e.reason() + "|" + e.getMessage().replace('\n', ' ') : String.valueOf(cause);
                    System.out.println("CLOSE " + closes.incrementAndGet() + " " + what);
                }
            });
            m.awaitReady(Duration.ofSeconds(60));
            System.out.println("READY");
            if (!done.await(150, TimeUnit.SECONDS)) {
                System.out.println("TIMEOUT accepts " + accepts.get());
                return 3;
            }
            Thread.sleep(300); // a stray second close would show here
            System.out.println("DONE accepts " + accepts.get() + " closes " + closes.get());
            return 0;
        }
    }
}
