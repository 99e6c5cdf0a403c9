package io.mancom.core.internal.sniff;

import com.typesafe.config.ConfigFactory;
import io.mancom.core.internal.config.MatchRule;
import io.mancom.core.spi.Settings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Each matcher, and the order in which a port's rules decide. */
class RouterTest {
    static MatchRule rule(String hocon) {
        return MatchRule.read(Settings.of(ConfigFactory.parseString("match " + hocon), "mancom.services.x"));
    }

    static Router router(String... rules) {
        return new Router(Arrays.stream(rules).map(RouterTest::rule).toList());
    }

    static int decide(Router r, byte[] bytes, boolean last) {
        ByteBuf b = Unpooled.wrappedBuffer(bytes);
        return r.decide(b, 16384, last);
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void http1AndHttp2AreToldApartFromTheirFirstLine() {
        Router r = router("= http1", "= http2");
        assertThat(decide(r, ascii("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"), false)).isEqualTo(0);
        assertThat(decide(r, ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), false)).isEqualTo(1);
        // "P" could start POST, PUT, PATCH or PRI: wait.
        assertThat(decide(r, ascii("P"), false)).isEqualTo(Router.AGAIN);
        assertThat(decide(r, ascii("POST /x HTTP/1.0\n"), false)).isEqualTo(0);
        assertThat(decide(r, ascii("GET /x HTTP/1.1"), false)).isEqualTo(Router.AGAIN);
        assertThat(decide(r, ascii("GET /x HTTP/1.1"), true)).isEqualTo(Router.NONE);
        assertThat(decide(r, ascii("GET /x SPDY/3\r\n"), false)).isEqualTo(Router.NONE);
        assertThat(decide(r, ascii("HELLO"), false)).isEqualTo(Router.NONE);
    }

    @Test
    void prefixesInTextAndHex() {
        Router r = router("{ prefix = \"SSH-\" }", "{ prefix = \"hex:16 03\" }", "= mux", "= any");
        assertThat(decide(r, ascii("SSH-2.0-OpenSSH_9.6\r\n"), false)).isEqualTo(0);
        assertThat(decide(r, ascii("SS"), false)).isEqualTo(Router.AGAIN);
        assertThat(decide(r, new byte[] {0x16, 0x03, 0x01}, false)).isEqualTo(1);
        assertThat(decide(r, new byte[] {0x4d, 0x43, 0x4d, 0x58, 1, (byte) 0xff, (byte) 0xff, 1}, false)).isEqualTo(2);
        // MCMX with another frame type is not a Hello: the fallback takes it.
        assertThat(decide(r, new byte[] {0x4d, 0x43, 0x4d, 0x58, 1, 0, 0, 2}, false)).isEqualTo(3);
        assertThat(decide(r, ascii("x"), false)).isEqualTo(3);
    }

    @Test
    void tlsRulesPickByServerNameAndProtocolInOrder() throws Exception {
        Router r = router("{ tls { sni = [\"*.grpc.example\"], alpn = [h2] } }",
                "{ tls { alpn = [\"http/1.1\"] } }",
                "{ tls { sni = [db.example] } }",
                "= tls");
        assertThat(decide(r, ClientHelloTest.clientHello("a.grpc.example", "h2"), false)).isEqualTo(0);
        assertThat(decide(r, ClientHelloTest.clientHello("grpc.example", "h2"), false)).isEqualTo(3);
        assertThat(decide(r, ClientHelloTest.clientHello("a.grpc.example", "h2", "http/1.1"), false)).isEqualTo(0);
        assertThat(decide(r, ClientHelloTest.clientHello("web.example", "h2", "http/1.1"), false)).isEqualTo(1);
        assertThat(decide(r, ClientHelloTest.clientHello("db.example"), false)).isEqualTo(2);
        assertThat(decide(r, ClientHelloTest.clientHello(null), false)).isEqualTo(3);
        byte[] hello = ClientHelloTest.clientHello("db.example");
        assertThat(decide(r, Arrays.copyOf(hello, hello.length - 1), false)).isEqualTo(Router.AGAIN);
        assertThat(decide(r, ascii("GET / HTTP/1.1\r\n"), false)).isEqualTo(Router.NONE);
    }

    @Test
    void anEarlierRuleThatCannotTellYetHoldsBackALaterMatch() {
        Router r = router("{ prefix = \"SSH-\" }", "= any");
        assertThat(decide(r, ascii("SS"), false)).isEqualTo(Router.AGAIN);
        assertThat(decide(r, ascii("SS"), true)).isEqualTo(1);
    }

    @Test
    void rulesReadFromConfig() {
        assertThat(rule("{ prefix = \"hex:16 03 01\" }").prefix()).containsExactly(0x16, 3, 1);
        assertThat(rule("{ tls { sni = [A.Example] } }").sni()).isEqualTo(List.of("a.example"));
        assertThat(rule("= \"\"")).isNull();
    }
}
