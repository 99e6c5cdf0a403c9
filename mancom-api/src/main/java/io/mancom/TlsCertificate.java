package io.mancom;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A certificate chain and its private key, as a {@link CertificateSelector} returns them for one
 * TLS handshake. Three forms, one each factory:
 * <ul>
 *   <li>{@link #of(PrivateKey, List)}: objects the application already holds (from a
 *       {@link java.security.KeyStore}, say);</li>
 *   <li>{@link #ofFiles(Path, Path)}: PEM files, read by the runtime (and read again when they
 *       change on disk, as the configured {@code tls.cert}/{@code tls.key} are);</li>
 *   <li>{@link #ofPem(String, String)}: PEM text (what the C API passes).</li>
 * </ul>
 * The chain starts with the server's own certificate; intermediates follow it.
 *
 * <h2>Lifecycle and threading</h2>
 * An immutable value; thread-safe. Two values with equal contents are {@link #equals equal}: the
 * runtime keeps the TLS context it built for a value and reuses it when a selector returns an equal
 * one, so returning the same object (or the same files) for many handshakes costs one build.
 *
 * <h2>Errors</h2>
 * The factories check their arguments for null ({@link NullPointerException}) and an empty chain
 * ({@link IllegalArgumentException}). Whether the key fits the certificate and the PEM parses is
 * checked when the runtime builds its TLS context for the handshake: a bad value fails that
 * handshake (logged with the service and the server name), never the runtime.
 */
public final class TlsCertificate {
    private final PrivateKey key;
    private final List<X509Certificate> chain;
    private final Path certFile;
    private final Path keyFile;
    private final String certPem;
    private final String keyPem;

    private TlsCertificate(PrivateKey key, List<X509Certificate> chain, Path certFile, Path keyFile,
                           String certPem, String keyPem) {
        this.key = key;
        this.chain = chain;
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.certPem = certPem;
        this.keyPem = keyPem;
    }

    /**
     * A private key and its certificate chain, the server's own certificate first.
     *
     * @throws IllegalArgumentException if {@code chain} is empty
     */
    public static TlsCertificate of(PrivateKey key, List<X509Certificate> chain) {
        Objects.requireNonNull(key, "key");
        List<X509Certificate> copy = List.copyOf(Objects.requireNonNull(chain, "chain"));
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("chain is empty: give at least the server's own certificate");
        }
        return new TlsCertificate(key, copy, null, null, null, null);
    }

    /** PEM files: the certificate chain (server's certificate first) and an unencrypted PKCS#8 key. */
    public static TlsCertificate ofFiles(Path certFile, Path keyFile) {
        return new TlsCertificate(null, null, Objects.requireNonNull(certFile, "certFile").toAbsolutePath(),
                Objects.requireNonNull(keyFile, "keyFile").toAbsolutePath(), null, null);
    }

    /** PEM text: the certificate chain (server's certificate first) and an unencrypted PKCS#8 key. */
    public static TlsCertificate ofPem(String certPem, String keyPem) {
        return new TlsCertificate(null, null, null, null, Objects.requireNonNull(certPem, "certPem"),
                Objects.requireNonNull(keyPem, "keyPem"));
    }

    /** The private key, if this value holds objects (null for files and PEM text). */
    public PrivateKey key() {
        return key;
    }

    /** The certificate chain, if this value holds objects (empty for files and PEM text). */
    public List<X509Certificate> chain() {
        return chain == null ? List.of() : chain;
    }

    /** The certificate file, if this value names files (else null). */
    public Path certFile() {
        return certFile;
    }

    /** The key file, if this value names files (else null). */
    public Path keyFile() {
        return keyFile;
    }

    /** The certificate chain's PEM text, if this value holds text (else null). */
    public String certPem() {
        return certPem;
    }

    /** The key's PEM text, if this value holds text (else null). */
    public String keyPem() {
        return keyPem;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TlsCertificate t && Objects.equals(key, t.key) && Objects.equals(chain, t.chain)
                && Objects.equals(certFile, t.certFile) && Objects.equals(keyFile, t.keyFile)
                && Objects.equals(certPem, t.certPem) && Objects.equals(keyPem, t.keyPem);
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, chain, certFile, keyFile, certPem, keyPem);
    }

    /** Names the source and the subject; never the key. */
    @Override
    public String toString() {
        if (certFile != null) {
            return "TlsCertificate{files " + certFile + ", " + keyFile + "}";
        }
        if (certPem != null) {
            return "TlsCertificate{PEM text, " + certPem.length() + " chars}";
        }
        return "TlsCertificate{" + chain.get(0).getSubjectX500Principal().getName() + "}";
    }
}
