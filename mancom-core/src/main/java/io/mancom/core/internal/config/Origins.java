package io.mancom.core.internal.config;

import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import io.mancom.ConfigException;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a config value came from, in the words of our messages and reports, and how values are
 * shown in them. Stateless. Internal: public only for the config contract in {@code io.mancom.core.spi}.
 *
 * <p>The loader gives every non-file layer a recognisable origin description (see the
 * {@code *_ORIGIN} constants), because Typesafe keeps no other trace of the layer a value came from.
 */
public final class Origins {
    /** Origin description prefix of a {@code -Dmancom.*} value; the property name follows. */
    public static final String SYSTEM_PROPERTY_ORIGIN = "system property -D";
    /** Origin description of {@link io.mancom.ManCom.Builder#overrides}; Typesafe appends ": LINE". */
    public static final String OVERRIDES_ORIGIN = "overrides";
    /** Origin description prefix of a value substituted from the environment; the name follows. */
    public static final String ENVIRONMENT_ORIGIN = "environment variable $";

    private static final int MAX_SHOWN = 60;

    private Origins() {
    }

    /** The file for {@link ConfigException#file()}: a real file, or the resource name, else null. */
    public static String file(ConfigOrigin origin) {
        if (origin == null) {
            return null;
        }
        if (origin.filename() != null) {
            return origin.filename();
        }
        if (origin.resource() != null) {
            return origin.resource();
        }
        FilePart part = firstFileOfMerge(origin);
        return part == null ? null : part.file();
    }

    /** The line for {@link ConfigException#line()}, or -1. */
    public static int line(ConfigOrigin origin) {
        if (origin == null) {
            return -1;
        }
        if (origin.filename() == null && origin.resource() == null) {
            FilePart part = firstFileOfMerge(origin);
            if (part != null) {
                return part.line();
            }
        }
        return origin.lineNumber();
    }

    private record FilePart(String file, int line) {
    }

    /**
     * "FILE: LINE" parts of a merged origin's description ("merge of A: 1,B: 53"); a part that
     * spans lines ("A: 1-54", a value concatenated over the whole file) is named by its first.
     */
    private static final Pattern MERGE_PART = Pattern.compile("(.+?): (\\d+)(?:-\\d+)?(?:,|$)");

    /**
     * For an origin Typesafe merged from several (an object set in the user's file and in
     * reference.conf, say), which keeps no file name of its own: the first part that is a file on
     * disk, so that an error about the merged value still names the user's file and line. Typesafe
     * exposes the parts only in the description, hence the parsing; null when none is a file.
     */
    private static FilePart firstFileOfMerge(ConfigOrigin origin) {
        String d = origin.description();
        if (d == null || !d.startsWith("merge of ")) {
            return null;
        }
        Matcher m = MERGE_PART.matcher(d).region("merge of ".length(), d.length());
        while (m.find()) {
            String name = m.group(1);
            try {
                if (Files.isRegularFile(Path.of(name))) {
                    return new FilePart(name, Integer.parseInt(m.group(2)));
                }
            } catch (InvalidPathException | NumberFormatException notAFile) {
                // a resource, a property, the overrides: not a file to name
            }
        }
        return null;
    }

    /**
     * The part of an error message that says where a value came from when there is no file to
     * name, such as {@code " (from system property -Dmancom.io-threads)"}; empty for files, whose
     * name and line {@link ConfigException} already puts in front.
     */
    public static String fromSuffix(ConfigOrigin origin) {
        if (origin == null || file(origin) != null) {
            return "";
        }
        String d = origin.description();
        if (d.startsWith(OVERRIDES_ORIGIN)) {
            return origin.lineNumber() > 0 ? " (from overrides, line " + origin.lineNumber() + ")" : " (from overrides)";
        }
        return " (from " + d + ")";
    }

    /**
     * Where a value was set, for {@code mancom config check}: {@code reference.conf (defaults)},
     * {@code /etc/mancom/mancom.conf:12}, {@code system property -Dmancom.x}, {@code overrides},
     * {@code environment variable $X}.
     */
    public static String source(ConfigOrigin origin) {
        if (origin.resource() != null) {
            return origin.resource() + " (defaults)";
        }
        if (origin.filename() != null) {
            return origin.lineNumber() > 0 ? origin.filename() + ":" + origin.lineNumber() : origin.filename();
        }
        String d = origin.description();
        if (d.startsWith(OVERRIDES_ORIGIN)) {
            return OVERRIDES_ORIGIN;
        }
        return d;
    }

    /** An exception located at {@code origin}. */
    public static ConfigException error(ConfigOrigin origin, String key, String message) {
        return new ConfigException(file(origin), line(origin), key, message + fromSuffix(origin));
    }

    /**
     * Our exception for one of Typesafe's: same file and line, Typesafe's message without its own
     * location prefix (ours adds it back in the usual form).
     */
    public static ConfigException translate(com.typesafe.config.ConfigException e, String key, String what) {
        return translate(e, key, what, "");
    }

    /** As {@link #translate(com.typesafe.config.ConfigException, String, String)}, with advice appended. */
    public static ConfigException translate(com.typesafe.config.ConfigException e, String key, String what, String advice) {
        ConfigOrigin origin = e.origin();
        String message = e.getMessage();
        if (origin != null && message.startsWith(origin.description() + ": ")) {
            message = message.substring(origin.description().length() + 2);
        }
        return new ConfigException(file(origin), line(origin), key, what + message + advice + fromSuffix(origin), e);
    }

    /**
     * A value as the user wrote it, for "found ..." (strings quoted, long values cut): {@code "soon"},
     * {@code -1}, {@code an object {"a":1}}.
     */
    public static String show(ConfigValue value) {
        String rendered = value.render(ConfigRenderOptions.concise());
        if (rendered.length() > MAX_SHOWN) {
            rendered = rendered.substring(0, MAX_SHOWN - 3) + "...";
        }
        switch (value.valueType()) {
            case OBJECT: return "an object " + rendered;
            case LIST: return "a list " + rendered;
            default: return rendered;
        }
    }

    /** A byte count the way a user would write it: {@code 64KiB}, {@code 16MiB}, {@code 1000 bytes}. */
    public static String bytes(long n) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        long[] sizes = {1L << 40, 1L << 30, 1L << 20, 1L << 10};
        for (int i = 0; i < units.length; i++) {
            if (n != 0 && n % sizes[i] == 0) {
                return (n / sizes[i]) + units[i];
            }
        }
        return n == 1 ? "1 byte" : n + " bytes";
    }

    /** A duration the way a user would write it: {@code 100ms}, {@code 5s}, {@code 2m}. */
    public static String duration(Duration d) {
        long nanos;
        try {
            nanos = d.toNanos();
        } catch (ArithmeticException e) {
            return d.toDays() + "d";
        }
        if (nanos == 0) {
            return "0s";
        }
        String[] units = {"d", "h", "m", "s", "ms", "us"};
        long[] sizes = {86_400_000_000_000L, 3_600_000_000_000L, 60_000_000_000L, 1_000_000_000L, 1_000_000L, 1_000L};
        for (int i = 0; i < units.length; i++) {
            if (nanos % sizes[i] == 0) {
                return (nanos / sizes[i]) + units[i];
            }
        }
        return nanos + "ns";
    }
}
