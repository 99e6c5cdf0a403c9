package com.example.hello;

import io.mancom.BlockingConnection;
import io.mancom.ManCom;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * Serves the {@code hello} service with an echo callback and talks to it with the blocking API, in
 * one program. Where {@code hello} lives (a TCP port, a serial line) is the configuration's
 * business: see mancom.conf beside the pom. Exits 0 when the echo came back byte for byte.
 */
public final class Hello {
    private Hello() {
    }

    public static void main(String[] args) throws IOException {
        byte[] message = (args.length > 0 ? String.join(" ", args) : "hello, ManCom").getBytes(StandardCharsets.UTF_8);
        // The layered configuration: /etc/mancom, the user's file, $MANCOM_CONFIG, -Dmancom.*.
        try (ManCom mancom = ManCom.start()) {
            mancom.registerDataReceiver("hello", (conn, data) -> conn.write(data));
            mancom.awaitReady(Duration.ofSeconds(5));
            System.out.println("serving 'hello' on " + mancom.boundEndPoint("hello").orElseThrow());

            try (BlockingConnection c = mancom.connect("hello")) {
                c.write(message);
                byte[] echoed = new byte[message.length];
                int got = 0;
                while (got < echoed.length) {
                    int n = c.read(echoed, got, echoed.length - got, Duration.ofSeconds(5));
                    if (n < 0) {
                        throw new IOException("the connection closed after " + got + " bytes of the echo");
                    }
                    got += n;
                }
                if (!Arrays.equals(message, echoed)) {
                    throw new IOException("the echo differs from what was sent");
                }
                System.out.println("echoed: " + new String(echoed, StandardCharsets.UTF_8));
            }
        }
    }
}
