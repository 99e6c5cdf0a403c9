package io.mancom.core.internal.sniff;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** SNI and ALPN from real ClientHellos (the JDK's TLS client), whole, cut into records, and byte by byte. */
class ClientHelloTest {
    static byte[] clientHello(String sni, String... alpn) throws Exception {
        return io.mancom.testkit.ClientHellos.clientHello(sni, alpn);
    }

    /** The same handshake message cut into TLS records of at most {@code size} bytes of fragment. */
    static byte[] recut(byte[] record, int size) {
        byte[] hs = Arrays.copyOfRange(record, 5, record.length);
        ByteBuf out = Unpooled.buffer();
        for (int i = 0; i < hs.length; i += size) {
            int n = Math.min(size, hs.length - i);
            out.writeByte(22).writeByte(3).writeByte(1).writeShort(n).writeBytes(hs, i, n);
        }
        byte[] b = new byte[out.readableBytes()];
        out.readBytes(b);
        return b;
    }

    @Test
    void readsTheServerNameAndTheOfferedProtocols() throws Exception {
        ClientHello h = ClientHello.parse(Unpooled.wrappedBuffer(clientHello("Api.Example.com", "h2", "http/1.1")), 16384);

        assertThat(h.sni()).isEqualTo("api.example.com");
        assertThat(h.alpn()).containsExactly("h2", "http/1.1");
    }

    @Test
    void aHelloWithoutExtensionsOfInterestHasNeither() throws Exception {
        ClientHello h = ClientHello.parse(Unpooled.wrappedBuffer(clientHello(null)), 16384);

        assertThat(h).isNotSameAs(ClientHello.NOT_TLS).isNotSameAs(ClientHello.INCOMPLETE);
        assertThat(h.sni()).isNull();
        assertThat(h.alpn()).isEmpty();
    }

    @Test
    void everyPrefixIsIncompleteAndTheWholeOneIsRead() throws Exception {
        byte[] hello = recut(clientHello("a.example", "h2"), 50); // many small records
        for (int n = 1; n < hello.length; n++) {
            assertThat(ClientHello.parse(Unpooled.wrappedBuffer(hello, 0, n), 16384)).as("first %d bytes", n)
                    .isSameAs(ClientHello.INCOMPLETE);
        }
        ClientHello h = ClientHello.parse(Unpooled.wrappedBuffer(hello), 16384);
        assertThat(h.sni()).isEqualTo("a.example");
        assertThat(h.alpn()).containsExactly("h2");
    }

    @Test
    void otherBytesAreNotTls() throws Exception {
        assertThat(ClientHello.parse(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n".getBytes()), 16384)).isSameAs(ClientHello.NOT_TLS);
        assertThat(ClientHello.parse(Unpooled.wrappedBuffer(new byte[] {22, 9}), 16384)).isSameAs(ClientHello.NOT_TLS);
        // A handshake record that is not a ClientHello (type 2, ServerHello).
        assertThat(ClientHello.parse(Unpooled.wrappedBuffer(new byte[] {22, 3, 3, 0, 4, 2, 0, 0, 0}), 16384))
                .isSameAs(ClientHello.NOT_TLS);
        // An application-data record in the middle of the handshake.
        byte[] hello = recut(clientHello("a.example"), 60);
        byte[] broken = Arrays.copyOf(hello, 65 + 5);
        broken[65] = 23;
        assertThat(ClientHello.parse(Unpooled.wrappedBuffer(broken), 16384)).isSameAs(ClientHello.NOT_TLS);
    }

    @Test
    void aHelloLargerThanTheBoundCanNeverBeRead() throws Exception {
        byte[] hello = clientHello("a.example", "h2");
        assertThat(ClientHello.parse(Unpooled.wrappedBuffer(hello), 100)).isSameAs(ClientHello.NOT_TLS);
    }
}
