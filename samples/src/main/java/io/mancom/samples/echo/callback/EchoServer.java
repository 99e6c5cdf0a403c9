package io.mancom.samples.echo.callback;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManCom;
import io.mancom.Registration;

import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * An echo server in the callback style: ManCom calls {@link DataReceiver#onData} with every chunk
 * of data that arrives, and the server writes it back.
 *
 * <p>Many connections share a few event-loop threads, so a callback must be quick and must never
 * block (no sleeping, no blocking I/O). The program only names the service, {@value #SERVICE};
 * the configuration says where it listens. Run it with the samples' config:
 *
 * <pre>
 * MANCOM_CONFIG=samples/mancom.conf java -cp ... io.mancom.samples.echo.callback.EchoServer
 * </pre>
 */
public final class EchoServer {
    /** The service this program serves; its endpoint comes from the configuration. */
    public static final String SERVICE = "echo";

    private EchoServer() {
    }

    public static void main(String[] args) throws Exception {
        // Reads the layered configuration: /etc/mancom, the user's file, $MANCOM_CONFIG, -Dmancom.*
        ManCom mancom = ManCom.start();
        // Ctrl-C or kill runs shutdown hooks, not finally blocks: close the ports and threads there too.
        Runtime.getRuntime().addShutdownHook(new Thread(mancom::close));
        try {
            serve(mancom, SERVICE);
            // Binding happens in the background; this returns once it listens, or says why it cannot.
            mancom.awaitReady(Duration.ofSeconds(5));
            System.out.println("echo server (callback API) listening on " + mancom.boundEndPoint(SERVICE).orElseThrow()
                    + "; Ctrl-C stops it");
            // Nothing more for this thread to do: the event loops serve every connection.
            Thread.currentThread().join();
        } finally {
            mancom.close();
        }
    }

    /**
     * Serves {@code service}: every chunk that arrives goes back to the connection it came from.
     * Closing the returned registration stops serving.
     */
    public static Registration serve(ManCom mancom, String service) {
        return mancom.registerDataReceiver(service, new DataReceiver() {
            @Override
            public void onData(Connection connection, ByteBuffer data) {
                // `data` is only lent for this call, and write() copies it: passing it straight on is safe.
                // If the client stops reading, ManCom stops reading from it too, so memory stays bounded.
                connection.write(data);
            }

            @Override
            public void onClose(Connection connection, Throwable cause) {
                // Called once per connection; cause is null when either side simply closed it.
                if (cause != null) {
                    System.err.println("connection from " + connection.remote() + " failed: " + cause.getMessage());
                }
            }
        });
    }
}
