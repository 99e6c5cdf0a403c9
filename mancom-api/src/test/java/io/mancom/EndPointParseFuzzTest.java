package io.mancom;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;

/**
 * Fuzzes {@link EndPoint#parse}: whatever the text, it returns an endpoint or throws
 * {@link IllegalArgumentException} with a message (as its javadoc says), and what it returns
 * prints to a URI that parses back to the same endpoint ({@link EndPoint#toString()} is canonical).
 *
 * <p>The input is the URI as UTF-8. The seeds are in
 * {@code src/test/resources/io/mancom/EndPointParseFuzzTestInputs/parse/}; without {@code -Pfuzz}
 * this replays them (docs/fuzzing.md).
 */
class EndPointParseFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void parse(byte[] input) {
        String uri = new String(input, StandardCharsets.UTF_8);
        EndPoint parsed;
        try {
            parsed = EndPoint.parse(uri);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("an IllegalArgumentException without a message for '" + uri + "'", e);
            }
            return;
        }
        String printed = parsed.toString();
        EndPoint again;
        try {
            again = EndPoint.parse(printed);
        } catch (IllegalArgumentException e) {
            throw new AssertionError("'" + uri + "' parsed, but its printed form '" + printed + "' does not", e);
        }
        if (!again.equals(parsed)) {
            throw new AssertionError("'" + uri + "' parsed to " + parsed + " but that parses to " + again);
        }
    }
}
