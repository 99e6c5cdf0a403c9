package io.mancom.core.internal.tls;

import io.mancom.TlsCertificate;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The server side of one service's TLS: the context built from {@code tls.cert}/{@code tls.key},
 * rebuilt when those files change, and the contexts built for a {@link io.mancom.CertificateSelector}'s
 * answers.
 *
 * <h2>Reload</h2>
 * {@link #defaultContext()} runs for every new connection and looks at the two files' stamps (two
 * {@code stat} calls, against a handshake's milliseconds); when they changed it reads them again.
 * A pair that cannot be used (half-written, a key that does not fit) is logged once per change and
 * the old context stays; the next change is tried again. Connections already open keep the context
 * they started with.
 *
 * <p>Thread-safe: the default context is swapped under this object's lock; the selector's cache
 * has its own.
 */
final class ServerTls {
    private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
    private static final int CACHED = 64;

    private final String service;
    private final TlsSettings settings;
    // Guarded by this.
    private SslContext current;
    private KeyPair.Stamp loaded;
    private KeyPair.Stamp rejected;
    private String loadedWhat;
    private final Map<Object, SslContext> selected = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, SslContext> e) {
            return size() > CACHED;
        }
    };

    /** @throws Pem.PemException if the configured pair cannot be used at start */
    ServerTls(String service, TlsSettings settings) throws Pem.PemException {
        this.service = service;
        this.settings = settings;
        if (settings.cert() != null) {
            KeyPair.Stamp stamp = KeyPair.Stamp.of(settings.cert(), settings.key());
            KeyPair pair = KeyPair.read(settings.cert(), settings.key());
            try {
                this.current = build(pair);
            } catch (SSLException e) {
                throw new Pem.PemException("cannot build a TLS context: " + e.getMessage(), e);
            }
            this.loaded = stamp;
            this.loadedWhat = describe(pair);
        }
    }

    String service() {
        return service;
    }

    TlsSettings settings() {
        return settings;
    }

    /** The context of the configured pair, reloaded if its files changed; null if none is configured. */
    synchronized SslContext defaultContext() {
        if (settings.cert() == null) {
            return null;
        }
        KeyPair.Stamp now = KeyPair.Stamp.of(settings.cert(), settings.key());
        if (!now.equals(loaded) && !now.equals(rejected)) {
            try {
                KeyPair pair = KeyPair.read(settings.cert(), settings.key());
                current = build(pair);
                loaded = now;
                rejected = null;
                loadedWhat = describe(pair);
                log.info("service '{}': reloaded tls.cert/tls.key: {}", service, loadedWhat);
            } catch (Pem.PemException | SSLException e) {
                rejected = now;
                log.warn("service '{}': the changed tls.cert/tls.key cannot be used ({}); new connections keep {}",
                        service, e.getMessage(), loadedWhat);
            }
        }
        return current;
    }

    /** The context for a selector's answer; built once per distinct answer (and per change of its files). */
    SslContext contextFor(TlsCertificate c) throws Pem.PemException, SSLException {
        Object cacheKey = c.certFile() != null ? List.of(c, KeyPair.Stamp.of(c.certFile(), c.keyFile())) : c;
        synchronized (selected) {
            SslContext ctx = selected.get(cacheKey);
            if (ctx != null) {
                return ctx;
            }
        }
        KeyPair pair;
        if (c.certFile() != null) {
            pair = KeyPair.read(c.certFile(), c.keyFile());
        } else if (c.certPem() != null) {
            pair = KeyPair.parse(c.certPem(), c.keyPem());
        } else {
            pair = KeyPair.checked(c.key(), c.chain(), "the selector's key");
        }
        SslContext ctx = build(pair);
        synchronized (selected) {
            selected.put(cacheKey, ctx);
        }
        return ctx;
    }

    private SslContext build(KeyPair pair) throws SSLException {
        SslContextBuilder b = SslContextBuilder.forServer(pair.key(), pair.chain().toArray(X509Certificate[]::new))
                .sslProvider(SslProvider.JDK)
                .clientAuth(switch (settings.clientAuth()) {
                    case NONE -> ClientAuth.NONE;
                    case OPTIONAL -> ClientAuth.OPTIONAL;
                    case REQUIRE -> ClientAuth.REQUIRE;
                });
        if (settings.ca() != null) {
            try {
                b.trustManager(Pem.certificates(Pem.read(settings.ca())));
            } catch (Pem.PemException e) {
                throw new SSLException(settings.ca() + ": " + e.getMessage(), e);
            }
        }
        return versionsAndAlpn(b, settings).build();
    }

    /**
     * The settings both sides share: TLS versions and ALPN. A peer that offers none of our ALPN
     * protocols gets none (the handshake goes on), as HTTP servers do.
     */
    static SslContextBuilder versionsAndAlpn(SslContextBuilder b, TlsSettings settings) {
        if (!settings.protocols().isEmpty()) {
            b.protocols(settings.protocols());
        }
        if (!settings.alpn().isEmpty()) {
            b.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, settings.alpn()));
        }
        return b;
    }

    private static String describe(KeyPair pair) {
        return "subject " + pair.subject() + ", serial " + pair.serial() + ", loaded " + Instant.now();
    }
}
