package io.mancom.samples.echo;

import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.samples.echo.client.EchoClient;
import io.mancom.testkit.Await;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs each echo server sample against the client sample over real loopback sockets, server and
 * client in two runtimes as they would be in two programs, so the samples cannot rot.
 */
@Timeout(60)
class EchoSamplesTest {
    private static final String LINES = "hello\nwörld, ünïcode\n\n" + "x".repeat(100_000);

    private ManCom server;
    private ManCom client;

    @AfterEach
    void closeRuntimes() {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void callbackServerEchoesTheClientsLines() throws Exception {
        server = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        io.mancom.samples.echo.callback.EchoServer.serve(server, "echo");
        server.awaitReady(Duration.ofSeconds(10));

        assertThat(runClient(server.boundEndPoint("echo").orElseThrow())).isEqualTo(LINES + "\n");
    }

    @Test
    void blockingServerEchoesTheClientsLines() throws Exception {
        server = TestManCom.start("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");
        Thread serving = new Thread(() -> {
            try {
                io.mancom.samples.echo.blocking.EchoServer.serve(server, "echo");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }, "sample-blocking-server");
        serving.start();
        try {
            EndPoint bound = awaitBound(server); // the sample's first accept binds the service

            // Two clients one after the other: the server keeps accepting.
            assertThat(runClient(bound)).isEqualTo(LINES + "\n");
            client.close();
            assertThat(runClient(bound)).isEqualTo(LINES + "\n");
        } finally {
            serving.interrupt();
            serving.join(10_000);
        }
        assertThat(serving.isAlive()).as("the accept loop ends when its thread is interrupted").isFalse();
    }

    @Test
    void theShippedConfigDefinesTheEchoService() {
        // Surefire runs in the module folder, where mancom.conf is.
        try (ManCom m = ManCom.start(Path.of("mancom.conf"))) {
            assertThat(m.endpoint(io.mancom.samples.echo.callback.EchoServer.SERVICE))
                    .isEqualTo(EndPoint.parse("tcp://127.0.0.1:7000"));
        }
    }

    /** The client sample in a runtime of its own, configured with the server's real port. */
    private String runClient(EndPoint serverAt) throws Exception {
        client = TestManCom.start("mancom.services.echo.endpoint = \"" + serverAt + "\"");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        int n;
        try (PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
            n = EchoClient.talk(client, "echo", new BufferedReader(new StringReader(LINES)), out);
        }
        assertThat(n).isEqualTo(4);
        return printed.toString(StandardCharsets.UTF_8);
    }

    private static EndPoint awaitBound(ManCom m) throws Exception {
        Await.until("the blocking sample binds 'echo'", () -> m.boundEndPoint("echo").isPresent());
        m.awaitReady(Duration.ofSeconds(10));
        return m.boundEndPoint("echo").orElseThrow();
    }
}
