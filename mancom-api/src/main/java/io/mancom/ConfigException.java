package io.mancom;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * The effective configuration is invalid, or names no such service. The message says where (file
 * and line), which key, what was found and what is allowed; the accessors give the same parts to
 * programs.
 *
 * <p>The message is always one line: a line break or other control character in any part (a key,
 * or a value the file quotes with {@code "\n"} escapes, which a parser's message repeats) is shown
 * escaped (as {@code \n}, {@code \r}, {@code \t}, other control characters as Java Unicode escapes), so that a log line or
 * {@code mancom config check}'s output cannot be split or garbled by what a file contains.
 *
 * <p>Unchecked: it is thrown by {@link ManCom#start()} and by the register/connect calls for a
 * service that is not configured, which a program fixes by changing the config, not by catching.
 */
public class ConfigException extends RuntimeException {
    private final String file;
    private final int line;
    private final String key;

    /**
     * @param file    the file the bad value came from, or null if it has none (defaults, -D)
     * @param line    the line in that file, or -1
     * @param key     the full config key, or null
     * @param message what is wrong and what is allowed, without the location (added here)
     */
    public ConfigException(String file, int line, String key, String message) {
        this(file, line, key, message, null);
    }

    public ConfigException(String file, int line, String key, String message, Throwable cause) {
        super(format(file, line, key, message), cause);
        this.file = file;
        this.line = line;
        this.key = key;
    }

    private static String format(String file, int line, String key, String message) {
        StringBuilder sb = new StringBuilder();
        if (file != null) {
            sb.append(file);
            if (line > 0) {
                sb.append(':').append(line);
            }
            sb.append(": ");
        }
        if (key != null) {
            sb.append(key).append(": ");
        }
        return oneLine(sb.append(message));
    }

    private static String oneLine(CharSequence s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isISOControl(c)) {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> out.append(String.format("\\u%04x", (int) c));
            }
        }
        return out == null ? s.toString() : out.toString();
    }

    /** The file the bad value came from, if it came from a file. */
    public Optional<String> file() {
        return Optional.ofNullable(file);
    }

    /** The line of the bad value in {@link #file()}, if known. */
    public OptionalInt line() {
        return line > 0 ? OptionalInt.of(line) : OptionalInt.empty();
    }

    /** The config key at fault, if one is. */
    public Optional<String> key() {
        return Optional.ofNullable(key);
    }
}
