package io.mancom.nativeshim;

import io.mancom.ManCom;

import java.time.Duration;

/** The Java twin of echo_server.c for {@link EchoBench}: a callback echo of the service in args[0]. */
public final class JavaEchoServer {
    private JavaEchoServer() {
    }

    public static void main(String[] args) throws Exception {
        String service = args.length > 0 ? args[0] : "echo";
        try (ManCom mancom = ManCom.start()) {
            mancom.registerDataReceiver(service, (c, data) -> c.write(data));
            mancom.awaitReady(Duration.ofSeconds(10));
            System.out.println("java_echo_server: serving '" + service + "'");
            System.out.flush();
            while (System.in.read() >= 0) {
                // runs until stdin closes or the process is stopped
            }
        }
    }
}
