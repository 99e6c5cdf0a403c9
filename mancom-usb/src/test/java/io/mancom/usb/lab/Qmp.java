package io.mancom.usb.lab;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A small client of QEMU's monitor protocol (QMP) on a unix socket, for the lab tests: reads the
 * greeting, enters command mode ({@code qmp_capabilities}), then runs commands one at a time and
 * waits for events. Lines are matched as text (QMP sends one JSON object per line); no JSON
 * library needed. Not thread-safe.
 */
final class Qmp implements AutoCloseable {
    private final SocketChannel channel;
    private final StringBuilder pending = new StringBuilder();
    private final List<String> events = new ArrayList<>();

    private Qmp(SocketChannel channel) {
        this.channel = channel;
    }

    /** Connects (bounded retries while QEMU creates the socket) and enters command mode. */
    static Qmp connect(Path socket, Duration max) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                Qmp q = new Qmp(ch);
                String greeting = q.line(deadline);
                if (!greeting.contains("\"QMP\"")) {
                    throw new IOException("not a QMP greeting: " + greeting);
                }
                q.execute("{\"execute\":\"qmp_capabilities\"}", Duration.ofSeconds(10));
                return q;
            } catch (IOException e) {
                ch.close();
                if (System.nanoTime() > deadline) {
                    throw new IOException("QMP on " + socket + " did not answer within " + max, e);
                }
                Thread.sleep(100);
            }
        }
    }

    /** Sends a command and returns its {@code return} line; an {@code error} line fails. Events seen meanwhile are kept. */
    String execute(String command, Duration max) throws IOException {
        channel.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            String l = line(deadline);
            if (l.contains("\"event\"")) {
                events.add(l);
            } else if (l.contains("\"return\"")) {
                return l;
            } else if (l.contains("\"error\"")) {
                throw new IOException("QMP " + command + " failed: " + l);
            }
        }
    }

    /** Waits for an event named {@code name} (or finds one already seen) and returns its line. */
    String awaitEvent(String name, Duration max) throws IOException {
        String key = "\"event\": \"" + name + "\"";
        for (int i = 0; i < events.size(); i++) {
            if (events.get(i).replace("\"event\":\"", "\"event\": \"").contains(key)) {
                return events.remove(i);
            }
        }
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            String l = line(deadline);
            if (l.replace("\"event\":\"", "\"event\": \"").contains(key)) {
                return l;
            }
            if (l.contains("\"event\"")) {
                events.add(l);
            }
        }
    }

    private String line(long deadline) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096);
        while (true) {
            int nl = pending.indexOf("\n");
            if (nl >= 0) {
                String l = pending.substring(0, nl).strip();
                pending.delete(0, nl + 1);
                if (!l.isEmpty()) {
                    return l;
                }
                continue;
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new IOException("QMP: no answer in time; have: " + pending);
            }
            // A blocking read bounded by the deadline: a helper closes the channel when it passes.
            Thread guard = new Thread(() -> {
                try {
                    Thread.sleep(left);
                    channel.close();
                } catch (InterruptedException | IOException ignored) {
                    // read finished first
                }
            }, "qmp-deadline");
            guard.setDaemon(true);
            guard.start();
            int n;
            try {
                n = channel.read(b.clear());
            } finally {
                guard.interrupt();
            }
            if (n < 0) {
                throw new IOException("QMP closed the connection; have: " + pending);
            }
            pending.append(StandardCharsets.UTF_8.decode(b.flip()));
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
