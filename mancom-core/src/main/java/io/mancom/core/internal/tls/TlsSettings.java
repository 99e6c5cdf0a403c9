package io.mancom.core.internal.tls;

import com.typesafe.config.ConfigOrigin;
import io.mancom.ConfigException;
import io.mancom.EndPoint;
import io.mancom.TcpAddress;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import javax.net.ssl.SSLContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A service's {@code tls} block, validated:
 *
 * <pre>
 * tls {
 *   cert = "server.pem"            # PEM chain, the server's certificate first (server side;
 *   key  = "server.key"            #   a client presents it when the server asks)
 *   ca   = "ca.pem"                # server: CAs client certificates must chain to;
 *                                  # client: CAs the server's must chain to ("" = the JDK's)
 *   client-auth = none             # none, optional or require
 *   alpn = [h2, "http/1.1"]        # protocols offered / accepted, in preference order
 *   protocols = [TLSv1.3]          # [] = the JDK's defaults
 *   passthrough = off              # on: do not terminate (port sharing routes by SNI)
 *   verify = on                    # client: check the server's certificate and host name
 *   server-name = ""               # client: the name sent (SNI) and verified; "" = the endpoint's host
 *   handshake-timeout = 10s
 * }
 * </pre>
 *
 * TLS is on when the block sets any of its keys anywhere but a reference.conf (a config file,
 * a property, the overrides), or {@code enabled = on} ({@code tls = on}); an explicit
 * {@code enabled = off} turns it off. Relative paths are relative to the file that sets them.
 *
 * <p>An immutable value; thread-safe. {@link #from} throws a {@link ConfigException} naming the
 * file, line and key of what is wrong: a missing or unreadable file, a file that is not PEM, a
 * key that does not fit the certificate, an unknown protocol.
 */
public record TlsSettings(boolean enabled, boolean passthrough, Path cert, Path key, Path ca, ClientAuth clientAuth,
                          List<String> alpn, List<String> protocols, boolean verify, String serverName,
                          Duration handshakeTimeout) {

    /** Whether a server asks for client certificates. */
    public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

    /** No TLS. */
    public static final TlsSettings OFF = new TlsSettings(false, false, null, null, null, ClientAuth.NONE, List.of(),
            List.of(), true, null, Duration.ofSeconds(10));

    static final List<String> KEYS = List.of("enabled", "cert", "key", "ca", "client-auth", "alpn", "protocols",
            "passthrough", "verify", "server-name", "handshake-timeout");

    /** The service's TLS settings (the loader validated them; this reads them again). */
    public static TlsSettings of(ServiceSettings service) {
        return from(Settings.of(service), service.endpoint());
    }

    /**
     * Reads and checks the {@code tls} block of a service (or of the defaults, with a null
     * endpoint): files are read and parsed, so {@code mancom config check} finds what a start would.
     *
     * @throws ConfigException naming file, line and key
     */
    public static TlsSettings from(Settings service, EndPoint endpoint) {
        if (!service.hasPath("tls")) {
            return OFF;
        }
        Settings b = service.switchBlock("tls");
        b.requireKnownKeys(KEYS);
        boolean passthrough = b.hasPath("passthrough") && b.getBoolean("passthrough");
        Path cert = path(b, "cert");
        Path key = path(b, "key");
        Path ca = path(b, "ca");
        boolean enabled;
        if (b.hasPath("enabled") && written(b.origin("enabled"))) {
            enabled = b.getBoolean("enabled");
        } else {
            // Any key written in the block means TLS: `tls { verify = off }` must not quietly mean cleartext.
            enabled = KEYS.stream().anyMatch(k -> !k.equals("enabled") && b.hasPath(k) && written(b.origin(k)));
        }
        ClientAuth clientAuth = b.hasPath("client-auth") ? b.getEnum("client-auth", ClientAuth.class) : ClientAuth.NONE;
        List<String> alpn = b.hasPath("alpn") ? b.getStringList("alpn") : List.of();
        List<String> protocols = b.hasPath("protocols") ? b.getStringList("protocols") : List.of();
        boolean verify = !b.hasPath("verify") || b.getBoolean("verify");
        String serverName = b.hasPath("server-name") ? b.getString("server-name").trim() : "";
        Duration timeout = b.hasPath("handshake-timeout")
                ? b.getDuration("handshake-timeout", Duration.ofMillis(1), Duration.ofHours(1)) : Duration.ofSeconds(10);
        if (!enabled) {
            return OFF;
        }
        if (endpoint != null && !(endpoint.address() instanceof TcpAddress)) {
            throw b.error(first(b, KEYS.toArray(String[]::new)),
                    "found TLS on " + endpoint + " but TLS runs over TCP endpoints only; remove the tls block");
        }
        if (passthrough) {
            for (String k : List.of("cert", "key", "client-auth")) {
                if (b.isOwn(k) && written(b.origin(k)) && (!k.equals("client-auth") || clientAuth != ClientAuth.NONE)) {
                    throw b.error(k, "found " + k + " with passthrough = on, but a passthrough service does not"
                            + " terminate TLS (its backend does); remove " + k + " or set passthrough = off");
                }
            }
        }
        if ((cert == null) != (key == null)) {
            String missing = cert == null ? "cert" : "key";
            throw b.error(cert == null ? "key" : "cert", "found " + (cert == null ? "key" : "cert") + " without "
                    + missing + "; give both (a PEM certificate chain and its PKCS#8 private key)");
        }
        if (cert != null) {
            checkPair(b, cert, key);
        }
        if (ca != null) {
            try {
                Pem.certificates(Pem.read(ca));
            } catch (Pem.PemException e) {
                throw b.error("ca", "found \"" + ca + "\": " + e.getMessage());
            }
        }
        for (String p : alpn) {
            int len = p.getBytes(StandardCharsets.US_ASCII).length;
            if (p.isEmpty() || len > 255 || !StandardCharsets.US_ASCII.newEncoder().canEncode(p)) {
                throw b.error("alpn", "found \"" + p + "\" but expected protocol names of 1-255 ASCII characters,"
                        + " such as [h2, \"http/1.1\"]");
            }
        }
        Set<String> known = supportedProtocols();
        for (String p : protocols) {
            if (!known.contains(p)) {
                throw b.error("protocols", "found unknown protocol \"" + p + "\" but expected some of: "
                        + String.join(", ", known));
            }
        }
        return new TlsSettings(true, passthrough, cert, key, ca, clientAuth, List.copyOf(alpn), List.copyOf(protocols),
                verify, serverName.isEmpty() ? null : serverName, timeout);
    }

    /** Whether this runtime puts TLS on the service's links (on, and not passed through). */
    public boolean terminates() {
        return enabled && !passthrough;
    }

    private static void checkPair(Settings b, Path cert, Path key) {
        List<X509Certificate> chain;
        try {
            chain = Pem.certificates(Pem.read(cert));
        } catch (Pem.PemException e) {
            throw b.error("cert", "found \"" + cert + "\": " + e.getMessage());
        }
        PrivateKey k;
        try {
            k = Pem.privateKey(Pem.read(key));
        } catch (Pem.PemException e) {
            throw b.error("key", "found \"" + key + "\": " + e.getMessage());
        }
        try {
            Pem.checkPair(k, chain.get(0));
        } catch (Pem.PemException e) {
            throw b.error("key", "found \"" + key + "\" for cert \"" + cert + "\": " + e.getMessage());
        }
    }

    private static Path path(Settings b, String k) {
        if (!b.hasPath(k)) {
            return null;
        }
        String v = b.getString(k).trim();
        if (v.isEmpty()) {
            return null;
        }
        Path p = Path.of(v);
        ConfigOrigin at = b.origin(k);
        if (!p.isAbsolute() && at.filename() != null) {
            Path dir = Path.of(at.filename()).toAbsolutePath().getParent();
            if (dir != null) {
                p = dir.resolve(p);
            }
        }
        return p.toAbsolutePath().normalize();
    }

    /** Set by a config layer rather than a reference.conf. */
    private static boolean written(ConfigOrigin origin) {
        return origin.resource() == null;
    }

    private static String first(Settings b, String... keys) {
        for (String k : keys) {
            if (b.hasPath(k) && written(b.origin(k))) {
                return k;
            }
        }
        return keys[0];
    }

    static Set<String> supportedProtocols() {
        try {
            return new TreeSet<>(Arrays.asList(SSLContext.getDefault().getSupportedSSLParameters().getProtocols()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no default TLS context", e);
        }
    }
}
