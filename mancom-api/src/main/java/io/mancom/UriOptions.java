package io.mancom;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The query options of an endpoint URI, consumed key by key so that whatever is left over can be
 * reported as unknown. Not thread-safe; one instance per parse.
 */
final class UriOptions {
    private final String uri;
    private final Map<String, String> values = new LinkedHashMap<>();

    UriOptions(String uri, String query) {
        this.uri = uri;
        if (query == null || query.isEmpty()) {
            return;
        }
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq)).toLowerCase(Locale.ROOT);
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (values.put(key, value) != null) {
                throw new IllegalArgumentException("option '" + key + "' given twice in " + uri);
            }
        }
    }

    String take(String key) {
        return values.remove(key);
    }

    int takeInt(String key, int dflt, int min, int max) {
        String v = take(key);
        if (v == null) {
            return dflt;
        }
        int n;
        try {
            n = v.startsWith("0x") || v.startsWith("0X") ? Integer.parseInt(v.substring(2), 16) : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + v + " is not a number in " + uri);
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(key + "=" + v + " is out of range " + min + ".." + max + " in " + uri);
        }
        return n;
    }

    Duration takeDuration(String key, Duration dflt) {
        String v = take(key);
        if (v == null) {
            return dflt;
        }
        try {
            return parseDuration(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + "=" + v + " is not a duration (examples: 0, 500ms, 2s, 1m) in " + uri);
        }
    }

    <E extends Enum<E>> E takeEnum(String key, E dflt, E[] all, java.util.function.Function<E, String> uriValue) {
        String v = take(key);
        if (v == null) {
            return dflt;
        }
        for (E e : all) {
            if (uriValue.apply(e).equalsIgnoreCase(v)) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E e : all) {
            allowed.append(allowed.length() == 0 ? "" : ", ").append(uriValue.apply(e));
        }
        throw new IllegalArgumentException(key + "=" + v + " is not allowed in " + uri + "; allowed: " + allowed);
    }

    /** The options nobody took. */
    Map<String, String> rest() {
        return values;
    }

    void requireConsumed(Set<String> known) {
        if (!values.isEmpty()) {
            throw new IllegalArgumentException("unknown option '" + values.keySet().iterator().next() + "' in " + uri
                    + "; known options: " + String.join(", ", known));
        }
    }

    static Duration parseDuration(String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException(v);
        }
        long n = Long.parseLong(s.substring(0, i));
        String unit = s.substring(i).trim();
        long scale;
        switch (unit) {
            case "": case "ms": scale = 1; break;
            case "s": scale = 1000; break;
            case "m": case "min": scale = 60_000; break;
            default: throw new IllegalArgumentException(v);
        }
        // In whole milliseconds, as formatDuration prints it: a duration too long for that
        // (hundreds of millions of years) is refused here rather than failing when printed.
        try {
            return Duration.ofMillis(Math.multiplyExact(n, scale));
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(v, e);
        }
    }

    static String formatDuration(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 && ms != 0 ? (ms / 1000) + "s" : ms + "ms";
    }

    static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /**
     * A device path as a URI prints it: readable (slashes, colons and the like stay), with only the
     * characters that {@link #decode} or the parser would read differently escaped.
     */
    static String encodePath(String path) {
        StringBuilder sb = new StringBuilder(path.length());
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            switch (c) {
                case '%': sb.append("%25"); break;
                case '+': sb.append("%2B"); break;
                case '?': sb.append("%3F"); break;
                default: sb.append(c);
            }
        }
        return sb.toString();
    }
}
