package io.mancom.core.internal.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.ManComException;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The daemon's answer to an attach request: the status line and headers of an HTTP/1.1 response,
 * and its body when it is an error. Parsed from bytes; an immutable value.
 *
 * @param status  the status code (101 when the service is attached)
 * @param headers the headers, names in lower case
 * @param body    the body (empty for a 101)
 */
record AttachResponse(int status, Map<String, String> headers, String body) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The largest head the daemon may send; more is a protocol error. */
    static final int MAX_HEAD = 16 * 1024;

    /** The header value, or null. */
    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    /** Content-Length, 0 when absent. */
    int contentLength() throws ManComException {
        String v = header("content-length");
        if (v == null) {
            return 0;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 0 || n > MAX_HEAD) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw protocol("a Content-Length of \"" + v + "\"");
        }
    }

    /**
     * Parses a response head (everything before the blank line, without it).
     *
     * @throws ManComException PROTOCOL if it is not an HTTP/1.1 response head
     */
    static AttachResponse parseHead(byte[] head) throws ManComException {
        String text = new String(head, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            throw protocol("\"" + abbreviate(lines[0]) + "\" where an HTTP/1.1 status line belongs");
        }
        int status;
        try {
            status = Integer.parseInt(statusLine[1]);
        } catch (NumberFormatException e) {
            throw protocol("the status \"" + abbreviate(statusLine[1]) + "\"");
        }
        Map<String, String> headers = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                throw protocol("the header line \"" + abbreviate(lines[i]) + "\"");
            }
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        return new AttachResponse(status, headers, "");
    }

    AttachResponse withBody(String body) {
        return new AttachResponse(status, headers, body);
    }

    /**
     * The refusal as the exception the application gets: the daemon's reason and message when
     * the body is its JSON error, else PROTOCOL with what came.
     */
    ManComException refusal(String service) {
        try {
            JsonNode n = JSON.readTree(body);
            JsonNode reason = n == null ? null : n.get("reason");
            JsonNode message = n == null ? null : n.get("message");
            if (reason != null && message != null) {
                ManComException.Reason r;
                try {
                    r = ManComException.Reason.valueOf(reason.asText());
                } catch (IllegalArgumentException e) {
                    r = ManComException.Reason.PROTOCOL;
                }
                return new ManComException(r, message.asText());
            }
        } catch (Exception e) {
            // not JSON: reported below as it came
        }
        return new ManComException(ManComException.Reason.PROTOCOL, "the ManCom daemon refused service '" + service
                + "' with HTTP " + status + ": " + abbreviate(body.strip()));
    }

    static ManComException protocol(String what) {
        return new ManComException(ManComException.Reason.PROTOCOL,
                "the ManCom daemon's answer to an attach is not what docs/daemon.md says: it sent " + what);
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 120) + "...";
    }
}
