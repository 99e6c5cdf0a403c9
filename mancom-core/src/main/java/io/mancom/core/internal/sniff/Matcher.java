package io.mancom.core.internal.sniff;

import io.mancom.core.internal.config.MatchRule;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One {@code match} rule as a pure function of a connection's first bytes, in the manner of
 * sslh's probes: {@link Verdict#MATCH}, {@link Verdict#NEXT} (not this one) or {@link Verdict#AGAIN}
 * (cannot tell yet). A matcher never consumes or keeps the bytes. Stateless and thread-safe.
 */
@FunctionalInterface
interface Matcher {
    /** What a matcher says of the bytes so far. */
    enum Verdict { MATCH, NEXT, AGAIN }

    /** The verdict on {@code first}, the connection's bytes so far (at least one). */
    Verdict test(FirstBytes first);

    /** The matcher for a configured rule. */
    static Matcher of(MatchRule rule) {
        return switch (rule.kind()) {
            case ANY -> first -> Verdict.MATCH;
            case PREFIX -> startsWith(rule.prefix());
            case HTTP2 -> startsWith("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            case MUX -> Matcher::muxHello;
            case HTTP1 -> Matcher::requestLine;
            case TLS -> tls(rule.sni(), rule.alpn());
        };
    }

    /** The bytes start with {@code prefix}. */
    static Matcher startsWith(byte[] prefix) {
        return first -> {
            ByteBuf b = first.bytes();
            int n = Math.min(b.readableBytes(), prefix.length);
            for (int i = 0; i < n; i++) {
                if (b.getByte(b.readerIndex() + i) != prefix[i]) {
                    return Verdict.NEXT;
                }
            }
            return n == prefix.length ? Verdict.MATCH : Verdict.AGAIN;
        };
    }

    /** ManCom's Hello: a Keepalive (flags 1) with id "MCMX" (docs/protocol.md, section 2). */
    private static Verdict muxHello(FirstBytes first) {
        Verdict v = startsWith(new byte[] {0x4d, 0x43, 0x4d, 0x58}).test(first);
        if (v != Verdict.MATCH) {
            return v;
        }
        ByteBuf b = first.bytes();
        if (b.readableBytes() < 8) {
            return Verdict.AGAIN;
        }
        return b.getByte(b.readerIndex() + 7) == 1 ? Verdict.MATCH : Verdict.NEXT;
    }

    /** An HTTP/1.x request line: METHOD SP target SP HTTP/1.x, up to its line end. */
    private static Verdict requestLine(FirstBytes first) {
        ByteBuf b = first.bytes();
        int start = b.readerIndex();
        int n = b.readableBytes();
        byte[] method = null;
        boolean partial = false;
        for (byte[] m : Http1.METHODS) {
            Verdict v = startsWith(m).test(first);
            if (v == Verdict.MATCH) {
                method = m;
                break;
            }
            partial |= v == Verdict.AGAIN;
        }
        if (method == null) {
            return partial ? Verdict.AGAIN : Verdict.NEXT;
        }
        for (int i = method.length; i < n; i++) {
            byte c = b.getByte(start + i);
            if (c == '\n') {
                int end = i > 0 && b.getByte(start + i - 1) == '\r' ? i - 1 : i;
                String tail = end - 9 >= method.length
                        ? b.toString(start + end - 9, 9, StandardCharsets.US_ASCII) : "";
                return tail.equals(" HTTP/1.1") || tail.equals(" HTTP/1.0") ? Verdict.MATCH : Verdict.NEXT;
            }
            if (c < 0x20 && c != '\r' || c == 0x7f) {
                return Verdict.NEXT;
            }
        }
        return Verdict.AGAIN;
    }

    /** A TLS ClientHello whose server name is one of {@code sni} and that offers one of {@code alpn} (empty = any). */
    static Matcher tls(List<String> sni, List<String> alpn) {
        return first -> {
            ClientHello hello = first.clientHello();
            if (hello == ClientHello.NOT_TLS) {
                return Verdict.NEXT;
            }
            if (hello == ClientHello.INCOMPLETE) {
                return Verdict.AGAIN;
            }
            boolean nameOk = sni.isEmpty() || (hello.sni() != null && sni.stream().anyMatch(s -> nameMatches(s, hello.sni())));
            boolean alpnOk = alpn.isEmpty() || hello.alpn().stream().anyMatch(alpn::contains);
            return nameOk && alpnOk ? Verdict.MATCH : Verdict.NEXT;
        };
    }

    /** {@code *.example.com} matches every name under example.com; other patterns match exactly. */
    static boolean nameMatches(String pattern, String name) {
        if (pattern.startsWith("*.")) {
            return name.endsWith(pattern.substring(1)) && name.length() > pattern.length() - 1;
        }
        return pattern.equals(name);
    }

    /** The request methods an HTTP/1 request line may start with, each with its space. */
    final class Http1 {
        static final List<byte[]> METHODS = java.util.stream.Stream.of("GET ", "POST ", "PUT ", "HEAD ", "DELETE ",
                "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ").map(m -> m.getBytes(StandardCharsets.US_ASCII)).toList();

        private Http1() {
        }
    }
}
