package io.mancom.testkit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code openssl s_client} as the client of TLS tests: one handshake and what it showed, or an
 * exchange of bytes. Call {@link Tools#require Tools.require("openssl", "openssl")} first.
 */
public final class SClient {
    private SClient() {
    }

    /** What one s_client handshake showed: the server's certificate, the ALPN answer, the whole output. */
    public record Handshake(X509Certificate cert, String alpn, String output) {
        public String subject() {
            return cert == null ? null : cert.getSubjectX500Principal().getName();
        }

        public String serial() {
            return cert == null ? null : cert.getSerialNumber().toString(16);
        }
    }

    /** Connects, handshakes and leaves (stdin is empty); {@code extra} are further s_client options. */
    public static Handshake handshake(int port, String serverName, String... extra) {
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port));
        if (serverName != null) {
            cmd.addAll(List.of("-servername", serverName));
        }
        cmd.addAll(List.of(extra));
        Tools.Result r = Tools.run(null, new byte[0], 30, cmd);
        return new Handshake(firstCertificate(r.out()), alpn(r.out()), r.all());
    }

    private static X509Certificate firstCertificate(String out) {
        Matcher m = Pattern.compile("-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----").matcher(out);
        if (!m.find()) {
            return null;
        }
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(m.group().getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.cert.CertificateException e) {
            throw new AssertionError(e);
        }
    }

    private static String alpn(String out) {
        Matcher m = Pattern.compile("ALPN protocol: (\\S+)").matcher(out);
        return m.find() ? m.group(1) : null;
    }

    /**
     * Sends {@code data} through {@code openssl s_client -quiet} and returns the first
     * {@code expect} bytes it printed (the server's answer), then ends the client.
     */
    public static byte[] exchange(int port, String serverName, byte[] data, int expect, Duration timeout, String... extra)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-servername", serverName, "-quiet", "-nocommands"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).start();
        try {
            Tools.drain(p.getErrorStream());
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            Thread writer = new Thread(() -> {
                try (OutputStream o = p.getOutputStream()) {
                    o.write(data);
                    o.flush();
                    // stdin stays open: -quiet ignores its end anyway, and the answer is what matters
                    p.waitFor();
                } catch (IOException | InterruptedException e) {
                    // the client ended
                }
            }, "s_client-stdin");
            writer.setDaemon(true);
            writer.start();
            InputStream in = p.getInputStream();
            long deadline = System.nanoTime() + timeout.toNanos();
            byte[] buf = new byte[65536];
            while (got.size() < expect) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("s_client printed " + got.size() + " of " + expect + " bytes within " + timeout);
                }
                int n = in.read(buf, 0, Math.min(buf.length, expect - got.size()));
                if (n < 0) {
                    break;
                }
                got.write(buf, 0, n);
            }
            return got.toByteArray();
        } finally {
            p.destroy();
            p.waitFor();
        }
    }
}
