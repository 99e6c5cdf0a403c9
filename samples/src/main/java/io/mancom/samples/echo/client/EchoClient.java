package io.mancom.samples.echo.client;

import io.mancom.BlockingConnection;
import io.mancom.ConfigException;
import io.mancom.ManCom;
import io.mancom.ManComException;

import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * An echo client: connects to the {@value #SERVICE} service, sends each line and prints what comes
 * back. The lines are the program's arguments, or standard input when there are none. Works with
 * either echo server, since both serve the same service.
 *
 * <pre>
 * MANCOM_CONFIG=samples/mancom.conf java -cp ... io.mancom.samples.echo.client.EchoClient hello world
 * </pre>
 */
public final class EchoClient {
    /** The service to call; the configuration says where it is. */
    public static final String SERVICE = "echo";

    /** How long to wait for the server's reply to one line. */
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(5);

    private EchoClient() {
    }

    public static void main(String[] args) throws IOException {
        BufferedReader lines = args.length > 0
                ? new BufferedReader(new StringReader(String.join("\n", args)))
                : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        // try-with-resources: the runtime is closed (threads stopped) however main ends.
        try (ManCom mancom = ManCom.start()) {
            talk(mancom, SERVICE, lines, System.out);
        } catch (ManComException | ConfigException e) {
            // ManCom's messages say what happened and what to do; a stack trace would add nothing.
            System.err.println("echo client: " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * Sends each line of {@code lines} to {@code service} and prints each reply to {@code out}.
     *
     * @return the number of lines echoed
     * @throws IOException if the service cannot be reached, or stops answering
     */
    public static int talk(ManCom mancom, String service, BufferedReader lines, PrintStream out) throws IOException {
        // connect() dials the endpoint the configuration gives the service.
        try (BlockingConnection connection = mancom.connect(service)) {
            int count = 0;
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                byte[] request = (line + "\n").getBytes(StandardCharsets.UTF_8);
                connection.write(request);
                // An echo has the length of the request but may arrive in several pieces: read until it is all here.
                byte[] reply = new byte[request.length];
                for (int off = 0; off < reply.length; ) {
                    int n = connection.read(reply, off, reply.length - off, REPLY_TIMEOUT);
                    if (n < 0) {
                        throw new EOFException("the server closed the connection before echoing \"" + line + "\"");
                    }
                    off += n;
                }
                out.print(new String(reply, StandardCharsets.UTF_8));
                out.flush();
                count++;
            }
            return count;
        }
    }
}
