package io.mancom;

/**
 * Chooses the certificate a TLS service presents, per handshake, by the server name the client
 * asked for (SNI). Given to {@link ManCom.Builder#certificates}; applies to every service of the
 * runtime that terminates TLS ({@code tls { ... }} without {@code passthrough}).
 *
 * <pre>{@code
 * ManCom m = ManCom.builder()
 *         .certificates(sni -> "b.example".equals(sni)
 *                 ? TlsCertificate.ofFiles(Path.of("b.pem"), Path.of("b.key"))
 *                 : null)                       // the service's tls.cert / tls.key
 *         .start();
 * }</pre>
 *
 * <h2>Threading</h2>
 * Called once per handshake, after the client's hello arrived and before the server answers,
 * on one of the runtime's blocking threads (not an event loop), so it may read files or ask a
 * vault; the handshake waits for it, up to the service's {@code tls.handshake-timeout}. It may be
 * called from several threads at once and must be thread-safe.
 *
 * <h2>Errors</h2>
 * Returning null means the service's configured default ({@code tls.cert}/{@code tls.key}); a
 * service without one then fails that handshake. A selector that throws, or returns a certificate
 * that cannot be used (bad PEM, a key that does not fit), fails that handshake only: the
 * connection is closed, counted and logged with the server name; the runtime goes on.
 */
@FunctionalInterface
public interface CertificateSelector {

    /**
     * @param serverName the host name the client sent (SNI), lower case; null when it sent none
     *                   (clients that dial an IP address send none)
     * @return the certificate for this handshake, or null for the service's configured default
     */
    TlsCertificate select(String serverName);
}
