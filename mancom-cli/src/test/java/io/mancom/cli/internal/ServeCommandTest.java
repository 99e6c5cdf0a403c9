package io.mancom.cli.internal;

import io.mancom.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code mancom serve}: each service with its handler, where it listens, and a clean stop. */
@Timeout(60)
class ServeCommandTest {
    @TempDir
    Path dir;

    @Test
    void servesEveryServiceWithItsHandlerUntilStopped() throws Exception {
        Path conf = Files.writeString(dir.resolve("serve.conf"), String.join("\n",
                "mancom.services {",
                "  demo = null",
                "  echo { endpoint = \"tcp://127.0.0.1:0\" }",
                "  sink { endpoint = \"tcp://127.0.0.1:0\", handler = discard }",
                "}",
                ""));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true));
        ServeCommand serve = cl.getSubcommands().get("serve").getCommand();
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> cl.execute("serve", "--config", conf.toString()));

        assertThat(serve.awaitServing(20, TimeUnit.SECONDS)).as(err.toString()).isTrue();
        String listing = out.toString();
        int echoPort = port(listing, "echo");
        int sinkPort = port(listing, "sink");

        try (Socket s = new Socket("127.0.0.1", echoPort)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
        }
        try (Socket s = new Socket("127.0.0.1", sinkPort)) {
            s.setSoTimeout(300);
            OutputStream o = s.getOutputStream();
            o.write(new byte[10_000]);
            InputStream in = s.getInputStream();
            assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
        }

        serve.stop();
        assertThat(exit.get(20, TimeUnit.SECONDS)).as(err.toString()).isEqualTo(Main.OK);
        assertThat(out.toString()).contains("Serving until interrupted").endsWith("Stopped." + System.lineSeparator());
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void noServiceConfiguredIsAConfigError() throws Exception {
        Path conf = Files.writeString(dir.resolve("none.conf"), "mancom.services.demo = null\n");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), "serve", "--config", conf.toString());

        assertThat(code).isEqualTo(Main.CONFIG);
        assertThat(err.toString()).contains("no service is configured");
    }

    /** The bound port printed on the service's row of the listing. */
    private static int port(String listing, String service) {
        Matcher m = Pattern.compile("(?m)^\\s+" + service + "\\s.*tcp://127\\.0\\.0\\.1:(\\d+)\\s*$").matcher(listing);
        assertThat(m.find()).as(listing).isTrue();
        return Integer.parseInt(m.group(1));
    }
}
