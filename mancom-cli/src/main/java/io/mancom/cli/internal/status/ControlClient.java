package io.mancom.cli.internal.status;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A tiny HTTP/1.1 client for a runtime's control socket, on the JDK's own Unix-domain
 * {@link SocketChannel} (no native library): one {@code GET} per connection, {@code Connection:
 * close}, the answer read to its end. It understands what {@code ControlHandler} sends: a body
 * with a {@code Content-Length}, or chunked (the {@code /events} stream).
 *
 * <h2>Failures</h2>
 * A socket whose process is gone answers with a refused connect ({@link IOException}); a process
 * that accepts but never answers is cut off after the timeout (the channel is closed under the
 * reader, which then fails with an {@link IOException}). A status other than 200 is an
 * {@link IOException} naming it. Thread-safe: every call uses its own connection.
 */
public final class ControlClient {
    /** Closes the channels of requests that take too long; one daemon thread for the whole JVM. */
    private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "mancom-status-timeout");
        t.setDaemon(true);
        return t;
    });

    private ControlClient() {
    }

    /** {@code GET route} on {@code socket}: the body of a 200 answer, as text. */
    public static String get(Path socket, String route, Duration timeout) throws IOException {
        SocketChannel ch = open(socket);
        ScheduledFuture<?> cut = TIMER.schedule(() -> closeQuietly(ch), timeout.toMillis(), TimeUnit.MILLISECONDS);
        try (ch) {
            InputStream in = request(ch, route);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            if (cut.isDone()) {
                throw new IOException(socket + " did not answer " + route + " within " + timeout.toMillis() + " ms");
            }
            throw e;
        } finally {
            cut.cancel(false);
        }
    }

    /**
     * A subscription to {@code GET /events}: {@link #lines()} blocks until the next line;
     * {@link #close()} ends it from any thread (it closes the connection, which ends a blocked
     * read; closing the reader instead would wait for the lock the blocked read holds).
     */
    public record Events(BufferedReader lines, SocketChannel channel) implements AutoCloseable {
        @Override
        public void close() {
            closeQuietly(channel);
        }
    }

    /** Subscribes to {@code GET /events}, once the answer's headers arrived. */
    public static Events events(Path socket) throws IOException {
        SocketChannel ch = open(socket);
        try {
            return new Events(new BufferedReader(new InputStreamReader(request(ch, "/events"), StandardCharsets.UTF_8)),
                    ch);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    private static SocketChannel open(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** Sends the request and reads the head; returns the body's stream (chunks decoded). */
    private static InputStream request(SocketChannel ch, String route) throws IOException {
        String req = "GET " + route + " HTTP/1.1\r\nHost: mancom\r\nConnection: close\r\n\r\n";
        ByteBuffer b = ByteBuffer.wrap(req.getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) {
            ch.write(b);
        }
        InputStream in = new java.io.BufferedInputStream(Channels.newInputStream(ch), 16 * 1024);
        String status = line(in);
        if (!status.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP answer: " + status);
        }
        boolean chunked = false;
        long length = -1;
        for (String h; !(h = line(in)).isEmpty(); ) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            } else if (lower.startsWith("content-length:")) {
                length = Long.parseLong(h.substring(h.indexOf(':') + 1).trim());
            }
        }
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[1].equals("200")) {
            throw new IOException("GET " + route + ": " + status);
        }
        if (chunked) {
            return new Chunked(in);
        }
        return length >= 0 ? new Limited(in, length) : in;
    }

    /** One CRLF-ended line of the head, without its end; an ended stream mid-head is an error. */
    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new IOException("the control socket closed in the middle of an answer");
            }
            if (line.size() > 8192) {
                throw new IOException("an HTTP header line over 8 KiB");
            }
            line.write(c);
        }
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    /** The first {@code length} bytes of a stream. */
    private static final class Limited extends InputStream {
        private final InputStream in;
        private long left;

        Limited(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            if (left == 0) {
                return -1;
            }
            int c = in.read();
            if (c < 0) {
                throw new IOException("the answer ended " + left + " bytes short");
            }
            left--;
            return c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left == 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("the answer ended " + left + " bytes short");
            }
            left -= n;
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** A chunked body, decoded (RFC 9112, section 7.1); the trailer is skipped. */
    static final class Chunked extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        Chunked(InputStream in) {
            this.in = in;
        }

        private boolean next() throws IOException {
            if (done) {
                return false;
            }
            if (left == 0) {
                String size = line(in);
                int semi = size.indexOf(';');
                left = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
                if (left == 0) {
                    while (!line(in).isEmpty()) {
                        // trailer fields: none are used
                    }
                    done = true;
                    return false;
                }
            }
            return true;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (!next()) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("the stream ended inside a chunk");
            }
            left -= n;
            if (left == 0) {
                line(in); // the CRLF after the chunk's data
            }
            return n;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(left, in.available());
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
