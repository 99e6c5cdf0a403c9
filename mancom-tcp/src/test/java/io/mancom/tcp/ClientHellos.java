package io.mancom.tcp;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.nio.ByteBuffer;
import java.util.List;

/** Real TLS ClientHellos from the JDK's client, for feeding a port byte by byte. */
final class ClientHellos {
    private ClientHellos() {
    }

    static byte[] clientHello(String sni, String... alpn) throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine(sni, 443);
        engine.setUseClientMode(true);
        SSLParameters p = engine.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(sni)));
        p.setApplicationProtocols(alpn);
        engine.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.beginHandshake();
        engine.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }
}
