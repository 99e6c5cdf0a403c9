package io.mancom.tcp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.io.BufferedReader;
import java.io.InputStreamReader;

/** A minimal HTTP/1.1 client over a Unix socket (the JDK's own), to test control sockets from Java. */
final class UnixHttp {
    private UnixHttp() {
    }

    /** An answer: status code, headers as text, body. */
    record Answer(int code, String headers, String body) {
    }

    /** GET {@code route} with Connection: close, and read the whole answer. */
    static Answer get(Path socket, String route) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap(("GET " + route + " HTTP/1.1\r\nHost: mancom\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(65536);
            while (ch.read(buf) >= 0) {
                buf.flip();
                all.write(buf.array(), 0, buf.limit());
                buf.clear();
            }
            String text = all.toString(StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            String head = text.substring(0, split);
            int code = Integer.parseInt(head.split(" ", 3)[1]);
            return new Answer(code, head, text.substring(split + 4));
        }
    }

    /**
     * Opens {@code GET /events} and returns a reader positioned after the headers; the caller
     * closes it. Lines come as the chunked encoding carries them (chunk sizes included), so read
     * for lines that start with "data: ".
     */
    static BufferedReader events(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        ch.write(ByteBuffer.wrap("GET /events HTTP/1.1\r\nHost: mancom\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
        BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null && !line.isEmpty()) {
            if (line.startsWith("HTTP/1.1") && !line.contains(" 200 ")) {
                throw new IOException("/events answered " + line);
            }
        }
        return r;
    }
}
