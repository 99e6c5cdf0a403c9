package io.mancom.cli;

import io.mancom.BlockingConnection;
import io.mancom.EndPoint;
import io.mancom.ManCom;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A blocking-style application for the daemon tests, run as its own JVM: {@code listen} and
 * {@code accept} on one service (args: config file, service), a thread per connection that first
 * writes {@code "pid N\n"} (so a test sees which process served it) and then echoes every byte.
 * Plain ManCom API; nothing in it knows about the daemon.
 */
public final class BlockingPidEcho {
    private BlockingPidEcho() {
    }

    public static void main(String[] args) throws Exception {
        String service = args[1];
        try (ManCom mancom = ManCom.start(Path.of(args[0]))) {
            EndPoint where = mancom.listen(service, Duration.ofSeconds(60));
            System.out.println("listening on " + where);
            System.out.flush();
            while (true) {
                BlockingConnection c = mancom.accept(service, Duration.ofDays(1));
                Thread t = new Thread(() -> echo(c), "echo-" + c.id());
                t.setDaemon(true);
                t.start();
            }
        }
    }

    private static void echo(BlockingConnection c) {
        try (c) {
            OutputStream out = c.outputStream();
            out.write(("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = c.inputStream();
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        }
    }
}
