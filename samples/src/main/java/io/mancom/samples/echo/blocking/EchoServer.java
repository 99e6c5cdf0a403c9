package io.mancom.samples.echo.blocking;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;
import io.mancom.ManComException;

import java.io.IOException;
import java.time.Duration;

/**
 * An echo server in the blocking style: accept a connection, then read and write on a thread of
 * its own, like a classic socket server. Simple to follow; a thread per connection, so it suits
 * tens of connections rather than thousands (the callback style scales further).
 *
 * <pre>
 * MANCOM_CONFIG=samples/mancom.conf java -cp ... io.mancom.samples.echo.blocking.EchoServer
 * </pre>
 */
public final class EchoServer {
    /** The service this program serves; its endpoint comes from the configuration. */
    public static final String SERVICE = "echo";

    /** A client that sends nothing for this long is disconnected. */
    private static final Duration IDLE = Duration.ofMinutes(5);

    private EchoServer() {
    }

    public static void main(String[] args) throws Exception {
        ManCom mancom = ManCom.start();
        // Ctrl-C or kill runs shutdown hooks, not finally blocks: close the ports and threads there too.
        Runtime.getRuntime().addShutdownHook(new Thread(mancom::close));
        try {
            System.out.println("echo server (blocking API) for " + mancom.endpoint(SERVICE) + "; Ctrl-C stops it");
            serve(mancom, SERVICE);
        } finally {
            mancom.close();
        }
    }

    /**
     * Accepts connections of {@code service} until the calling thread is interrupted, and echoes
     * each one on a new thread.
     *
     * @throws IOException if the service cannot be served (port in use, ...); the message says why
     */
    public static void serve(ManCom mancom, String service) throws IOException {
        while (!Thread.currentThread().isInterrupted()) {
            BlockingConnection connection;
            try {
                // The first accept binds the service's endpoint. The short timeout lets the loop
                // notice an interrupt; connections that come meanwhile wait in a bounded backlog.
                connection = mancom.accept(service, Duration.ofSeconds(1));
            } catch (ManComException e) {
                if (e.reason() == ManComException.Reason.TIMEOUT) {
                    continue; // nobody came this second: wait again
                }
                if (Thread.currentThread().isInterrupted()) {
                    return; // asked to stop while waiting
                }
                throw e;
            }
            new Thread(() -> echo(connection), "echo-" + connection.id()).start();
        }
    }

    /** Sends back everything the client sends, until it closes the connection. */
    static void echo(BlockingConnection connection) {
        // try-with-resources closes the connection however the loop ends.
        try (connection) {
            byte[] buffer = new byte[8192];
            int n;
            // read() waits for at least one byte and returns -1 once the client has closed.
            while ((n = connection.read(buffer, IDLE)) >= 0) {
                connection.write(buffer, 0, n);
            }
        } catch (IOException e) {
            // A timeout (idle client), a reset, or the server shutting down.
            System.err.println("connection from " + connection.remote() + " ended: " + e.getMessage());
        }
    }
}
