package io.mancom.core.internal.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

/**
 * The client side of one service's TLS: one context, built on first use, that verifies the
 * server's certificate against {@code tls.ca} (or the JDK's trust store) and its name against the
 * endpoint's host (or {@code tls.server-name}); {@code verify = off} turns both off, with one
 * warning per service. The client presents {@code tls.cert}/{@code tls.key} when the server asks.
 *
 * <p>Verification failures carry a message that says which certificate (subject, issuer, names)
 * failed against which CA source or which host name, for the connect's {@code ManComException}.
 * Thread-safe.
 */
final class ClientTls {
    private static final Logger log = LoggerFactory.getLogger(ClientTls.class);

    private final String service;
    private final TlsSettings settings;
    private SslContext context; // guarded by this

    ClientTls(String service, TlsSettings settings) {
        this.service = service;
        this.settings = settings;
    }

    TlsSettings settings() {
        return settings;
    }

    /** Where trust comes from, in words for messages. */
    String trustSource() {
        return settings.ca() != null ? "the CAs in tls.ca = " + settings.ca()
                : "the JDK's trust store (tls.ca is not set)";
    }

    synchronized SslContext context() throws GeneralSecurityException, Pem.PemException, java.io.IOException {
        if (context != null) {
            return context;
        }
        SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK);
        if (settings.verify()) {
            b.trustManager(new Explaining(delegate(), trustSource()));
            b.endpointIdentificationAlgorithm("HTTPS");
        } else {
            log.warn("service '{}': tls.verify = off: the server's certificate and name are NOT checked; anyone on the"
                    + " path can read and change this service's traffic", service);
            b.trustManager(InsecureTrustManagerFactory.INSTANCE);
            b.endpointIdentificationAlgorithm(null);
        }
        if (settings.cert() != null) {
            KeyPair pair = KeyPair.read(settings.cert(), settings.key());
            b.keyManager(pair.key(), pair.chain());
        }
        context = ServerTls.versionsAndAlpn(b, settings).build();
        return context;
    }

    private X509ExtendedTrustManager delegate() throws GeneralSecurityException, Pem.PemException, java.io.IOException {
        KeyStore store = null;
        if (settings.ca() != null) {
            store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (X509Certificate c : Pem.certificates(Pem.read(settings.ca()))) {
                store.setCertificateEntry("ca-" + i++, c);
            }
        }
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        for (TrustManager t : f.getTrustManagers()) {
            if (t instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("the JDK offers no X509ExtendedTrustManager");
    }

    /**
     * Checks as the JDK does, in two steps so a failure can say which one failed: the chain
     * against the trusted CAs, then the name against the host.
     */
    static final class Explaining extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager d;
        private final String trust;

        Explaining(X509ExtendedTrustManager d, String trust) {
            this.d = d;
            this.trust = trust;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            try {
                d.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw new CertificateException("the server's certificate (" + describe(chain) + ") is not signed by "
                        + trust + ": " + e.getMessage(), e);
            }
            try {
                d.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                String host = engine == null ? null : engine.getPeerHost();
                throw new CertificateException("the server's certificate (" + describe(chain) + ") is not for host '"
                        + host + "' (the endpoint's host, or tls.server-name): " + e.getMessage(), e);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            d.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            d.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            d.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            d.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            d.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return d.getAcceptedIssuers();
        }

        private static String describe(X509Certificate[] chain) {
            if (chain == null || chain.length == 0) {
                return "none sent";
            }
            X509Certificate c = chain[0];
            return "subject " + c.getSubjectX500Principal().getName() + ", issuer " + c.getIssuerX500Principal().getName()
                    + ", names " + names(c);
        }

        private static String names(X509Certificate c) {
            try {
                Collection<List<?>> sans = c.getSubjectAlternativeNames();
                if (sans == null) {
                    return "[]";
                }
                return sans.stream().map(l -> String.valueOf(l.get(1))).toList().toString();
            } catch (java.security.cert.CertificateParsingException e) {
                return "[unreadable]";
            }
        }
    }
}
