package io.mancom.tcp;

import org.junit.jupiter.api.Assertions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The outside programs the port-sharing tests run (curl, openssl, ssh, sshd), found with
 * {@link io.mancom.testkit.Tools#require}: servers it starts are children of the test and are
 * destroyed by {@link #close()}.
 */
final class ExternalTools implements AutoCloseable {
    private final List<Process> started = new ArrayList<>();

    /** A TCP port that was free a moment ago, for a server a test starts. */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts {@code command}, its output going to {@code log}; destroyed at close. */
    Process start(Path log, String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        started.add(p);
        return p;
    }

    /**
     * Waits until something accepts connections on 127.0.0.1:{@code port}, or fails with the log of
     * {@code server} (which may have exited).
     */
    static void awaitListening(int port, Process server, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                Assertions.fail("the server exited with " + server.exitValue() + " before listening:\n" + Files.readString(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                server.waitFor(50, TimeUnit.MILLISECONDS); // a short pause that also notices an exit
            }
        }
        Assertions.fail("nothing listens on " + port + " after 15s:\n" + Files.readString(log));
    }

    /** Runs {@code command} to its end (at most 30s) with {@code stdin}; its output and exit code. */
    static Result run(String stdin, String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            Assertions.fail(String.join(" ", command) + " did not finish within 30s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    record Result(int exit, String output) {
    }

    @Override
    public void close() {
        for (Process p : started) {
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        started.clear();
    }
}
