package io.mancom.testkit;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Debian nginx run as a child process of the test (or benchmark) on loopback ports, with its
 * configuration, pid file, logs and temp directories in a directory of its own: never the
 * system's instance. {@link #start} writes {@code nginx.conf} from the {@code http { }} block's
 * body it is given and waits until the listed ports accept connections.
 *
 * <p>{@link #require()} skips the calling test with a clear message when nginx is not installed,
 * and fails it when {@code CI=true} (CI installs it). Not thread-safe; one owner.
 */
public final class Nginx implements AutoCloseable {
    private final Path dir;
    private final List<Integer> ports;
    private Process process;

    private Nginx(Path dir, List<Integer> ports) {
        this.dir = dir;
        this.ports = ports;
    }

    /** Whether an nginx binary runs here. */
    public static boolean installed() {
        return Tools.runs("nginx", "-v");
    }

    /** Skips the test without nginx; fails it when {@code CI=true}. */
    public static void require() {
        if (installed()) {
            return;
        }
        String why = "nginx is not installed (apt-get install nginx)";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(why + "; CI must have it");
        }
        Assumptions.abort(why + ": test skipped");
    }

    /** A loopback port that was free a moment ago. */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port", e);
        }
    }

    /**
     * Writes {@code dir/nginx.conf} with {@code http} as the body of its {@code http { }} block and
     * starts nginx on it; returns once every port in {@code ports} accepts connections.
     *
     * @param workers worker processes
     */
    public static Nginx start(Path dir, int workers, String http, List<Integer> ports) throws IOException {
        Files.createDirectories(dir);
        String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
        String conf = user
                + "worker_processes " + workers + ";\n"
                + "pid " + dir.resolve("nginx.pid") + ";\n"
                + "error_log " + dir.resolve("error.log") + " warn;\n"
                + "worker_rlimit_nofile 20000;\n"
                + "events { worker_connections 10000; }\n"
                + "http {\n"
                + "  access_log off;\n"
                + "  client_body_temp_path " + dir.resolve("client_body") + ";\n"
                + "  proxy_temp_path " + dir.resolve("proxy") + ";\n"
                + "  fastcgi_temp_path " + dir.resolve("fastcgi") + ";\n"
                + "  uwsgi_temp_path " + dir.resolve("uwsgi") + ";\n"
                + "  scgi_temp_path " + dir.resolve("scgi") + ";\n"
                + http
                + "\n}\n";
        Files.writeString(dir.resolve("nginx.conf"), conf);
        Nginx n = new Nginx(dir, List.copyOf(ports));
        n.launch();
        return n;
    }

    private void launch() throws IOException {
        process = new ProcessBuilder("nginx", "-p", dir.toString(), "-e", dir.resolve("error.log").toString(),
                "-c", dir.resolve("nginx.conf").toString(), "-g", "daemon off;")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        for (int port : ports) {
            while (!accepts(port)) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("nginx exited with " + process.exitValue() + ": " + log());
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("nginx does not listen on " + port + " after 30 s: " + log());
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The master process's pid (its workers are its children). */
    public long pid() {
        return process.pid();
    }

    /** Its directory (the config, logs and pid file). */
    public Path dir() {
        return dir;
    }

    /** Stops nginx the fast way (SIGTERM: it closes every connection at once) and waits for it. */
    public void stop() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Starts it again on the same configuration, once {@link #stop()}ped. */
    public void startAgain() throws IOException {
        stop();
        launch();
    }

    /** The error log and the process's output, for failure messages. */
    public String log() {
        StringBuilder b = new StringBuilder();
        for (String f : List.of("error.log", "stdout.log")) {
            try {
                b.append(Files.readString(dir.resolve(f), StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // not written yet
            }
        }
        return b.toString();
    }

    @Override
    public void close() {
        stop();
    }
}
