package io.mancom.testkit;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.List;

/**
 * Real TLS ClientHellos, from the JDK's own TLS client, for feeding a sniffer or a shared port
 * whole or byte by byte without a TLS library in the test. Stateless.
 */
public final class ClientHellos {
    private ClientHellos() {
    }

    /**
     * The first flight of a JDK TLS client that asks for server name {@code sni} (none if null) and
     * offers the ALPN protocols {@code alpn}: one or more TLS records holding a ClientHello.
     */
    public static byte[] clientHello(String sni, String... alpn) throws GeneralSecurityException {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine(sni, 443);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        if (sni != null) {
            p.setServerNames(List.of(new SNIHostName(sni)));
        }
        p.setApplicationProtocols(alpn);
        engine.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        try {
            engine.beginHandshake();
            engine.wrap(ByteBuffer.allocate(0), out);
        } catch (javax.net.ssl.SSLException e) {
            throw new GeneralSecurityException("the JDK's TLS client made no ClientHello: " + e.getMessage(), e);
        }
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }
}
