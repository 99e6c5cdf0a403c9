package io.mancom.core.internal.config;

import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.mancom.ConfigException;
import io.mancom.core.spi.Settings;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A service's {@code match}: which connections of a shared TCP port are the service's, told by
 * their first bytes (docs/port-sharing.md). Read from the service's block; {@code match = ""}
 * (the default) means the service has no rule.
 *
 * <pre>
 * match = http1                                  a request line: GET / HTTP/1.1
 * match = http2                                  the client preface: PRI * HTTP/2.0 ...
 * match = mux                                    a ManCom mux session's Hello (docs/protocol.md)
 * match = any                                    every connection (the fallback)
 * match = tls                                    any TLS ClientHello
 * match { tls { sni = [a.example, "*.b.example"], alpn = [h2] } }
 * match { prefix = "SSH-" }                      bytes; "hex:16 03" for bytes in hex
 * </pre>
 *
 * <p>An immutable value; thread-safe.
 *
 * @param kind   what is matched
 * @param sni    TLS: server names (lower case; {@code *.x} matches one label or more under x); empty = any
 * @param alpn   TLS: protocols of which the client must offer one; empty = any
 * @param prefix PREFIX: the bytes the connection starts with
 * @param origin where the rule is written (file, line), for ordering and messages
 */
public record MatchRule(Kind kind, List<String> sni, List<String> alpn, byte[] prefix, ConfigOrigin origin) {
    /** The key. */
    public static final String KEY = "match";

    /** What a rule looks at. */
    public enum Kind { TLS, HTTP1, HTTP2, MUX, PREFIX, ANY }

    private static final Set<String> WORDS = Set.of("http1", "http2", "mux", "any", "tls");
    private static final String EXPECTED = "one of http1, http2, mux, any, tls, or a block "
            + "match { tls { sni = [...], alpn = [...] } } or match { prefix = \"SSH-\" }";

    public MatchRule {
        sni = List.copyOf(sni);
        alpn = List.copyOf(alpn);
        prefix = prefix == null ? null : prefix.clone();
    }

    @Override
    public byte[] prefix() {
        return prefix == null ? null : prefix.clone();
    }

    /**
     * The service's rule, or null when it has none.
     *
     * @throws ConfigException naming the file, line and key of a malformed rule
     */
    public static MatchRule read(Settings service) {
        if (!service.hasPath(KEY)) {
            return null;
        }
        ConfigValue v = service.config().getValue(KEY);
        String key = service.key(KEY);
        if (v.valueType() == ConfigValueType.STRING) {
            String word = ((String) v.unwrapped()).trim().toLowerCase(Locale.ROOT);
            if (word.isEmpty()) {
                return null;
            }
            if (!WORDS.contains(word)) {
                throw Origins.error(v.origin(), key, "found " + Origins.show(v) + " but expected " + EXPECTED);
            }
            return new MatchRule(Kind.valueOf(word.toUpperCase(Locale.ROOT)), List.of(), List.of(), null, v.origin());
        }
        if (v.valueType() != ConfigValueType.OBJECT) {
            throw Origins.error(v.origin(), key, "found " + Origins.show(v) + " but expected " + EXPECTED);
        }
        ConfigObject o = (ConfigObject) v;
        if (o.size() != 1 || !(o.containsKey("tls") || o.containsKey("prefix"))) {
            throw Origins.error(v.origin(), key, "found a block with " + (o.isEmpty() ? "no key" : "keys " + o.keySet())
                    + " but expected exactly one of: tls { sni = [...], alpn = [...] }, prefix = \"...\"");
        }
        Settings block = service.block(KEY);
        if (o.containsKey("prefix")) {
            return new MatchRule(Kind.PREFIX, List.of(), List.of(), prefix(block), v.origin());
        }
        ConfigValue tls = o.get("tls");
        if (tls.valueType() != ConfigValueType.OBJECT) {
            if (block.getBoolean("tls")) {
                return new MatchRule(Kind.TLS, List.of(), List.of(), null, v.origin());
            }
            throw block.error("tls", "found off but expected on or a block tls { sni = [...], alpn = [...] }");
        }
        Settings t = block.block("tls");
        t.requireKnownKeys(List.of("sni", "alpn"));
        List<String> sni = t.hasPath("sni") ? lower(t.getStringList("sni")) : List.of();
        List<String> alpn = t.hasPath("alpn") ? t.getStringList("alpn") : List.of();
        for (String name : sni) {
            if (name.isEmpty() || name.indexOf('*', name.startsWith("*.") ? 1 : 0) >= 0) {
                throw t.error("sni", "found server name \"" + name + "\" but expected a host name, or *.domain for every"
                        + " name under domain");
            }
        }
        for (String p : alpn) {
            if (p.isEmpty() || p.getBytes(StandardCharsets.US_ASCII).length > 255) {
                throw t.error("alpn", "found protocol \"" + p + "\" but expected an ALPN protocol id such as h2 or http/1.1");
            }
        }
        return new MatchRule(Kind.TLS, sni, alpn, null, v.origin());
    }

    private static byte[] prefix(Settings block) {
        String text = block.getString("prefix");
        byte[] bytes;
        if (text.startsWith("hex:")) {
            String hex = text.substring(4).replaceAll("[\\s:]", "");
            try {
                bytes = HexFormat.of().parseHex(hex);
            } catch (IllegalArgumentException e) {
                throw block.error("prefix", "found \"" + text + "\" but expected hex digits after hex:, such as hex:16 03");
            }
        } else {
            bytes = text.getBytes(StandardCharsets.UTF_8);
        }
        if (bytes.length == 0) {
            throw block.error("prefix", "found an empty prefix but expected at least one byte (use match = any for"
                    + " every connection)");
        }
        return bytes;
    }

    private static List<String> lower(List<String> names) {
        List<String> out = new ArrayList<>(names.size());
        names.forEach(n -> out.add(n.trim().toLowerCase(Locale.ROOT)));
        return out;
    }

    /**
     * Whether every connection this rule matches is matched by {@code earlier} already, so that
     * this rule, placed after it, can never match.
     */
    public boolean shadowedBy(MatchRule earlier) {
        switch (earlier.kind) {
            case ANY:
                return true;
            case PREFIX:
                if (kind == Kind.PREFIX) {
                    return prefix.length >= earlier.prefix.length
                            && Arrays.equals(prefix, 0, earlier.prefix.length, earlier.prefix, 0, earlier.prefix.length);
                }
                return false;
            case TLS:
                return kind == Kind.TLS && (earlier.sni.isEmpty() || (!sni.isEmpty() && earlier.sni.containsAll(sni)))
                        && (earlier.alpn.isEmpty() || (!alpn.isEmpty() && earlier.alpn.containsAll(alpn)));
            default:
                return kind == earlier.kind;
        }
    }

    /** The rule as written, for messages: {@code tls { sni = [a], alpn = [h2] }}. */
    public String describe() {
        return switch (kind) {
            case TLS -> sni.isEmpty() && alpn.isEmpty() ? "tls" : "tls { sni = " + sni + ", alpn = " + alpn + " }";
            case PREFIX -> "prefix = \"" + printable(prefix) + "\"";
            default -> kind.name().toLowerCase(Locale.ROOT);
        };
    }

    private static String printable(byte[] b) {
        for (byte x : b) {
            if (x < 0x20 || x > 0x7e) {
                return "hex:" + HexFormat.of().formatHex(b);
            }
        }
        return new String(b, StandardCharsets.US_ASCII);
    }
}
