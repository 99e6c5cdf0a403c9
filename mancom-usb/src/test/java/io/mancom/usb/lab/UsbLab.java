package io.mancom.usb.lab;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The USB lab ({@code lab/usb/lab.sh}) for tests: boots a QEMU guest with a real USB stack and
 * emulated FTDI devices whose other ends are TCP sockets on this host, and runs a Java main class
 * of the test class path inside it with this JDK (the guest sees the host's root read-only at the
 * same paths, with scratch space at /run/lab-tmp; the host /tmp is visible read-only).
 *
 * <p>{@link #require()} skips the calling test (JUnit assumption, with the reason) when
 * {@code qemu-system-x86_64} is not installed or the guest cannot be prepared (no Debian apt, no
 * network for the first download). Not thread-safe; one guest per test.
 */
public final class UsbLab {
    /** How long preparing (downloading the kernel once) may take. */
    private static final Duration PREPARE_TIMEOUT = Duration.ofMinutes(10);
    private static String unavailable; // why the lab cannot run, once known
    private static Path script;

    private UsbLab() {
    }

    /** The lab script, prepared; skips the test when the lab cannot run here. */
    public static synchronized Path require() {
        if (script == null && unavailable == null) {
            unavailable = probe();
        }
        Assumptions.assumeTrue(unavailable == null, () -> "USB lab not available, test skipped: " + unavailable);
        return script;
    }

    private static String probe() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")
                || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
            return "the lab runs on x86-64 Linux only";
        }
        if (!onPath("qemu-system-x86_64")) {
            return "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86 busybox-static cpio kmod;"
                    + " .ci/run installs them)";
        }
        Path s = null;
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isExecutable(d.resolve("lab/usb/lab.sh"))) {
                s = d.resolve("lab/usb/lab.sh");
                break;
            }
        }
        if (s == null) {
            return "lab/usb/lab.sh not found above " + System.getProperty("user.dir");
        }
        try {
            Process p = new ProcessBuilder(s.toString(), "prepare").redirectErrorStream(true).start();
            byte[] out = readAllBounded(p, PREPARE_TIMEOUT);
            if (p.exitValue() != 0) {
                return "lab.sh prepare failed (exit " + p.exitValue() + "): " + new String(out, StandardCharsets.UTF_8).strip();
            }
        } catch (IOException | InterruptedException e) {
            return "lab.sh prepare failed: " + e;
        }
        script = s;
        return null;
    }

    private static byte[] readAllBounded(Process p, Duration max) throws IOException, InterruptedException {
        p.getOutputStream().close();
        byte[][] out = new byte[1][];
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                out[0] = in.readAllBytes();
            } catch (IOException e) {
                out[0] = new byte[0];
            }
        }, "lab-output");
        reader.start();
        if (!p.waitFor(max.toMillis(), TimeUnit.MILLISECONDS)) {
            destroyTree(p);
            throw new IOException("did not finish within " + max);
        }
        reader.join(10_000);
        return out[0] == null ? new byte[0] : out[0];
    }

    private static boolean onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) {
                return true;
            }
        }
        return false;
    }

    /** A free TCP port on 127.0.0.1 for a device's chardev (free now; QEMU binds it at start). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * This test run's class path as a list of files (surefire may hand the JVM a manifest-only
     * jar; its Class-Path is expanded).
     */
    static List<String> classPath() throws IOException {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (e.endsWith(".jar") && Path.of(e).getFileName().toString().startsWith("surefirebooter")) {
                try (JarFile j = new JarFile(e)) {
                    Manifest m = j.getManifest();
                    String cp = m == null ? null : m.getMainAttributes().getValue("Class-Path");
                    if (cp != null) {
                        for (String u : cp.trim().split("\\s+")) {
                            out.add(Path.of(java.net.URI.create(u)).toString());
                        }
                        continue;
                    }
                }
            }
            out.add(e);
        }
        return out;
    }

    /** What to boot: the chardev ports of the FTDI devices, a QMP socket, the main class and its arguments. */
    public static final class Spec {
        final List<Integer> serialPorts = new ArrayList<>();
        Path qmp;
        String mainClass;
        final List<String> args = new ArrayList<>();
        final List<String> jvmOptions = new ArrayList<>();
        final List<String> env = new ArrayList<>();
        Duration timeout = Duration.ofMinutes(3);

        /** Attaches an emulated FTDI device whose other end is 127.0.0.1:{@code port} (chardev c0, c1, ...; QEMU id ftdi0, ftdi1, ...). */
        public Spec serial(int port) {
            serialPorts.add(port);
            return this;
        }

        /** Opens QEMU's monitor on this unix socket. */
        public Spec qmp(Path socket) {
            this.qmp = socket;
            return this;
        }

        public Spec main(Class<?> main, String... args) {
            this.mainClass = main.getName();
            this.args.addAll(List.of(args));
            return this;
        }

        /** Sets an environment variable for the program in the guest (for example LIBUSB_DEBUG=4). */
        public Spec env(String name, String value) {
            env.add(name + "=" + value);
            return this;
        }

        public Spec jvmOption(String o) {
            jvmOptions.add(o);
            return this;
        }

        /** How long the whole guest (boot, command, power-off) may take. */
        public Spec timeout(Duration t) {
            this.timeout = t;
            return this;
        }
    }

    /** Boots a guest that runs {@code spec}'s main class. */
    public static Guest boot(Spec spec) throws IOException {
        Path lab = require();
        List<String> cmd = new ArrayList<>(List.of(lab.toString(), "run", "--timeout", String.valueOf(spec.timeout.toSeconds())));
        for (int p : spec.serialPorts) {
            cmd.add("--serial");
            cmd.add(String.valueOf(p));
        }
        if (spec.qmp != null) {
            cmd.add("--qmp");
            cmd.add(spec.qmp.toString());
        }
        cmd.add("--");
        if (!spec.env.isEmpty()) {
            cmd.add("env");
            cmd.addAll(spec.env);
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(String.join(java.io.File.pathSeparator, classPath()));
        // One CPU under TCG: C1 only and the serial collector start fastest.
        cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss512k",
                // The guest sees the host's /tmp read-only: its scratch space is /run/lab-tmp, and
                // HotSpot's perf-data file (always under /tmp) is off.
                "-Djava.io.tmpdir=/run/lab-tmp", "-XX:-UsePerfData",
                "-Dio.netty.leakDetection.level=paranoid", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        cmd.addAll(spec.jvmOptions);
        cmd.add(spec.mainClass);
        cmd.addAll(spec.args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        return new Guest(pb.start(), spec.timeout);
    }

    /** A running guest: its console output (the command's output) and exit status. */
    public static final class Guest implements AutoCloseable {
        private final Process process;
        private final Duration timeout;
        private final StringBuffer output = new StringBuffer();
        private final Thread reader;
        private final long started = System.nanoTime();

        Guest(Process process, Duration timeout) {
            this.process = process;
            this.timeout = timeout;
            this.reader = new Thread(() -> {
                try (InputStream in = process.getInputStream()) {
                    byte[] b = new byte[8192];
                    int n;
                    while ((n = in.read(b)) > 0) {
                        output.append(new String(b, 0, n, StandardCharsets.UTF_8));
                    }
                } catch (IOException e) {
                    output.append("\n(reading the lab's output failed: ").append(e).append(")\n");
                }
            }, "usb-lab-output");
            reader.setDaemon(true);
            reader.start();
        }

        /** The output so far. */
        public String output() {
            return output.toString();
        }

        /** Waits (bounded polling) until the output contains {@code marker}; false if the guest ended or time ran out. */
        public boolean awaitOutput(String marker, Duration max) throws InterruptedException {
            long deadline = System.nanoTime() + max.toNanos();
            while (System.nanoTime() < deadline) {
                if (output().contains(marker)) {
                    return true;
                }
                if (!process.isAlive()) {
                    reader.join(2000);
                    return output().contains(marker);
                }
                Thread.sleep(50);
            }
            return false;
        }

        /** Waits for the guest to power off; the command's exit status (124: the lab's timeout; 125: the guest failed). */
        public int awaitExit() throws InterruptedException {
            if (!process.waitFor(timeout.toMillis() + 30_000, TimeUnit.MILLISECONDS)) {
                destroyTree(process);
                throw new AssertionError("the lab did not end within " + timeout + "; output:\n" + output());
            }
            reader.join(5000);
            return process.exitValue();
        }

        /** Seconds since the guest was started. */
        public double seconds() {
            return (System.nanoTime() - started) / 1e9;
        }

        /** Connects to a device's chardev (bounded retries while QEMU starts listening): plugs the device in. */
        public Socket connectDevice(int port, Duration max) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + max.toNanos();
            while (true) {
                Socket s = new Socket();
                try {
                    s.connect(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 1000);
                    s.setTcpNoDelay(true);
                    return s;
                } catch (IOException e) {
                    s.close();
                    if (System.nanoTime() > deadline || !process.isAlive()) {
                        throw new IOException("QEMU's chardev on port " + port + " did not accept within " + max
                                + "; lab output:\n" + output(), e);
                    }
                    Thread.sleep(50);
                }
            }
        }

        @Override
        public void close() {
            destroyTree(process);
        }
    }

    static void destroyTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
