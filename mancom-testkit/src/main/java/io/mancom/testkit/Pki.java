package io.mancom.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

/**
 * A throw-away certificate authority made with the {@code openssl} command, for TLS tests: a CA,
 * and certificates it issues with the names a test needs. EC P-256 keys (fast to make), keys in
 * unencrypted PKCS#8 PEM (what openssl 3 writes), each certificate with a random serial.
 * Not thread-safe.
 */
public final class Pki {
    private final Path dir;
    private final String name;

    /** A certificate and its key, as files. */
    public record Issued(Path cert, Path key, String serial) {
    }

    private Pki(Path dir, String name) {
        this.dir = dir;
        this.name = name;
    }

    /**
     * A new CA in {@code dir}, with subject {@code CN=<name>}: {@code <name>.pem} and {@code <name>.key}.
     * Skips the calling test (fails it with {@code CI=true}) when openssl is not installed.
     */
    public static Pki create(Path dir, String name) {
        Tools.require("openssl", "openssl");
        Pki p = new Pki(dir, name);
        p.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".pem", "-subj", "/CN=" + name, "-days", "2",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        return p;
    }

    /** The CA's certificate (what a peer trusts). */
    public Path caCert() {
        return dir.resolve(name + ".pem");
    }

    /**
     * Issues a certificate with subject {@code CN=<cn>} and the given subject alternative names
     * ({@code DNS:localhost}, {@code IP:127.0.0.1}), as {@code <file>.pem} and {@code <file>.key}.
     */
    public Issued issue(String file, String cn, String... sans) {
        String serial = new BigInteger(64, new SecureRandom()).toString(16);
        try {
            Path ext = dir.resolve(file + ".ext");
            List<String> lines = new ArrayList<>();
            if (sans.length > 0) {
                lines.add("subjectAltName=" + String.join(",", sans));
            }
            lines.add("extendedKeyUsage=serverAuth,clientAuth");
            Files.write(ext, lines);
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", file + ".key", "-out", file + ".csr", "-subj", "/CN=" + cn);
            openssl("x509", "-req", "-in", file + ".csr", "-CA", name + ".pem", "-CAkey", name + ".key",
                    "-set_serial", "0x" + serial, "-out", file + ".pem", "-days", "2", "-extfile", file + ".ext");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Issued(dir.resolve(file + ".pem"), dir.resolve(file + ".key"), serial);
    }

    private void openssl(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Tools.Result r = Tools.run(dir, new byte[0], 60, cmd);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed (" + r.exit() + "): " + r.err());
        }
    }
}
