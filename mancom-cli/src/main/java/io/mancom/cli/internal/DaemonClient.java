package io.mancom.cli.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * One HTTP/1.1 request to the daemon's control socket on the JDK's Unix-domain channel:
 * {@code Connection: close}, the answer read to its end (the daemon sends a Content-Length and
 * closes). Not for attaching. A socket nobody serves fails with an {@link IOException} that says
 * how to start the daemon.
 */
final class DaemonClient {
    private DaemonClient() {
    }

    record Answer(int status, String body) {
    }

    static Answer post(Path socket, String route) throws IOException {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new IOException("no daemon answers at " + socket + " (" + e.getMessage()
                    + "); start it with 'mancom daemon' or 'systemctl start mancomd'", e);
        }
        try (ch) {
            String req = "POST " + route + " HTTP/1.1\r\nHost: mancomd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            ch.write(ByteBuffer.wrap(req.getBytes(StandardCharsets.US_ASCII)));
            InputStream in = Channels.newInputStream(ch);
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            String text = all.toString(StandardCharsets.UTF_8);
            int head = text.indexOf("\r\n\r\n");
            if (!text.startsWith("HTTP/1.1 ") || head < 0) {
                throw new IOException("the daemon at " + socket + " sent no HTTP answer: " + text);
            }
            int status = Integer.parseInt(text.substring(9, 12));
            return new Answer(status, text.substring(head + 4));
        } catch (SocketTimeoutException | NumberFormatException e) {
            throw new IOException("bad answer from " + socket + ": " + e, e);
        }
    }
}
