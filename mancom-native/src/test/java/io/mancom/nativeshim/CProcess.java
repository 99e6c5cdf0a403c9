package io.mancom.nativeshim;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.fail;

/** A running C program: its output lines as they come, and a bounded wait for its exit. */
final class CProcess implements AutoCloseable {
    private static final String EOF = "\u0000eof";
    private final String name;
    private final Process process;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> stdout = Collections.synchronizedList(new ArrayList<>());
    private final List<String> stderr = Collections.synchronizedList(new ArrayList<>());
    private final CountDownLatch drained = new CountDownLatch(2);

    CProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        pump(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), stdout, true);
        pump(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), stderr, false);
    }

    private void pump(BufferedReader r, List<String> into, boolean queue) {
        Thread t = new Thread(() -> {
            try (r) {
                String line;
                while ((line = r.readLine()) != null) {
                    into.add(line);
                    if (queue) {
                        lines.add(line);
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            } finally {
                if (queue) {
                    lines.add(EOF);
                }
                drained.countDown();
            }
        }, name + "-output");
        t.setDaemon(true);
        t.start();
    }

    /** The program's process id (its control socket is proc/<pid>.sock). */
    long pid() {
        return process.pid();
    }

    /** Waits for a line of stdout that contains {@code text}. */
    String awaitLine(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.equals(EOF)) {
                fail("%s printed no line with '%s' (%s)%n%s", name, text, line == null ? "timed out" : "it ended", output());
            }
            if (line.contains(text)) {
                return line;
            }
        }
    }

    /** Waits for the exit; a program that does not end in time is killed and fails the test. */
    int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            fail("%s did not exit within %s (hang)%n%s", name, timeout, output());
        }
        drained.await(5, TimeUnit.SECONDS);   // all of its output is in
        return process.exitValue();
    }

    /**
     * SIGTERM, then {@link #waitFor}. Through the process handle: {@code Process.destroy()} also
     * closes our ends of the pipes, which loses what the program prints while it stops.
     */
    int stop(Duration timeout) throws InterruptedException {
        process.toHandle().destroy();
        return waitFor(timeout);
    }

    List<String> stdout() {
        synchronized (stdout) {
            return List.copyOf(stdout);
        }
    }

    String output() {
        return "--- stdout of " + name + "\n" + String.join("\n", stdout()) + "\n--- stderr\n" + String.join("\n", List.copyOf(stderr));
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
        }
    }
}
