package io.mancom.core.internal.config;

import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.mancom.ConfigException;
import io.mancom.core.spi.ServiceSettings;
import io.mancom.core.spi.Settings;

import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How a service's connections cut their bytes into messages: what one {@code onData} call
 * receives. Read from the service's {@code framing} entry:
 *
 * <pre>
 * framing = none                  # the default: bytes as the transport delivers them
 * framing = lines                 # one message per line, with its \n (or \r\n)
 * framing { length-field = 4 }    # each message prefixed by its length, 4 bytes big-endian
 * framing { lines = on, max-length = 64KiB }
 * </pre>
 *
 * <p>An immutable value; thread-safe. {@link #from} throws a {@link ConfigException} naming the
 * file, line and key of an invalid value.
 *
 * @param kind        what separates messages
 * @param lengthField bytes of the length prefix (1, 2, 3, 4 or 8) for {@link Kind#LENGTH_FIELD},
 *                    else 0
 * @param maxLength   the longest message in bytes, without its newline or prefix; a longer one
 *                    closes the connection
 */
public record Framing(Kind kind, int lengthField, int maxLength) {

    /** What separates messages. */
    public enum Kind {
        /** Nothing: {@code onData} gets bytes as they arrive; chunk boundaries mean nothing. */
        NONE,
        /** A newline ends each message; the message keeps it, and writers add their own. */
        LINES,
        /** A big-endian length prefix starts each message; the runtime adds it to each write. */
        LENGTH_FIELD
    }

    /** The lengths a length prefix may have, in bytes (what Netty's codecs support). */
    public static final Set<Integer> LENGTH_FIELDS = Set.of(1, 2, 3, 4, 8);
    /** The default {@code max-length}: 1 MiB. */
    public static final int DEFAULT_MAX_LENGTH = 1 << 20;
    /** No framing. */
    public static final Framing NONE = new Framing(Kind.NONE, 0, DEFAULT_MAX_LENGTH);

    private static final List<String> KEYS = List.of("lines", "length-field", "max-length");
    private static final String EXPECTED = "none, lines or a block such as framing { length-field = 4 }";

    public Framing {
        if (kind == Kind.LENGTH_FIELD != LENGTH_FIELDS.contains(lengthField) || kind != Kind.LENGTH_FIELD && lengthField != 0) {
            throw new IllegalArgumentException("lengthField " + lengthField + " does not fit " + kind);
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("maxLength < 1: " + maxLength);
        }
    }

    /** The framing of a service ({@code mancom.services.NAME.framing}). */
    public static Framing of(ServiceSettings service) {
        return from(Settings.of(service));
    }

    /**
     * Reads the {@code framing} entry of a service's block (or of the defaults): absent or
     * {@code none} means {@link #NONE}; {@code lines}; or a block.
     *
     * @throws ConfigException naming file, line and key if a value is invalid or a key unknown
     */
    public static Framing from(Settings service) {
        if (!service.hasPath("framing")) {
            return NONE;
        }
        ConfigValue v = service.config().hasPath("framing") ? service.config().getValue("framing") : null;
        if (v != null && v.valueType() == ConfigValueType.STRING) {
            String word = ((String) v.unwrapped()).trim().toLowerCase(Locale.ROOT);
            return switch (word) {
                case "none", "off" -> NONE;
                case "lines" -> new Framing(Kind.LINES, 0, DEFAULT_MAX_LENGTH);
                default -> throw service.error("framing", "found \"" + v.unwrapped() + "\" but expected " + EXPECTED);
            };
        }
        if (v != null && v.valueType() != ConfigValueType.OBJECT) {
            throw service.error("framing", "found " + Origins.show(v) + " but expected " + EXPECTED);
        }
        Settings b = service.block("framing");
        b.requireKnownKeys(KEYS);
        boolean lines = b.hasPath("lines") && b.getBoolean("lines");
        int lengthField = b.hasPath("length-field") ? b.getInt("length-field", 0, 8) : 0;
        int maxLength = b.hasPath("max-length") ? b.getIntBytes("max-length", 1, Integer.MAX_VALUE - 8)
                : DEFAULT_MAX_LENGTH;
        if (lengthField != 0 && !LENGTH_FIELDS.contains(lengthField)) {
            throw b.error("length-field", "found " + lengthField + " but expected 1, 2, 3, 4 or 8 (bytes of the"
                    + " length prefix), or 0 for none");
        }
        if (lines && lengthField != 0) {
            throw b.error("length-field", "found length-field = " + lengthField + " with lines = on, but a service"
                    + " has one framing; set one of them");
        }
        if (lengthField != 0) {
            return new Framing(Kind.LENGTH_FIELD, lengthField, maxLength);
        }
        return new Framing(lines ? Kind.LINES : Kind.NONE, 0, maxLength);
    }
}
