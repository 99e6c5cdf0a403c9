package io.mancom.core.internal.config;

import io.mancom.ConfigException;
import io.mancom.core.spi.RuntimeSettings;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** Every way a configuration can be wrong, and exactly what the user is told. */
class ConfigLoaderErrorsTest {
    private static final String SERVICE_KEYS =
            "allow, blocking, connect-timeout, endpoint, forward, framing, handler, hold, link, listen, match, mux, reconnect, scope,"
                    + " sniff, tcp, tls, tunnel, via, write-buffer";

    @TempDir
    Path tmp;
    ConfigFixture f;

    @BeforeEach
    void setUp() {
        f = new ConfigFixture(tmp);
    }

    /** Checks the parts and the whole message, which is "FILE:LINE: KEY: MESSAGE". */
    private static void assertError(ConfigException e, Path file, int line, String key, String message) {
        assertThat(e.file()).hasValue(file.toString());
        assertThat(e.line()).hasValue(line);
        assertThat(e.key()).hasValue(key);
        assertThat(e.getMessage()).isEqualTo(file + ":" + line + ": " + key + ": " + message);
    }

    @Test
    void syntaxErrorNamesTheFileAndLine() {
        Path etc = f.etcFile("mancom {", "  io-threads = 1", "  services = [", "}");

        ConfigException e = f.fails();
        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.line()).hasValue(4);
        assertThat(e.key()).isEmpty();
        assertThat(e.getMessage()).startsWith(etc + ":4: HOCON syntax error: ");
        assertThat(e.getCause()).isInstanceOf(com.typesafe.config.ConfigException.Parse.class);
    }

    @Test
    void syntaxErrorInAConfDFile() {
        f.etcFile("mancom.io-threads = 1");
        Path bad = f.confD("20-bad.conf", "# comment", "mancom.io-threads = = 2");

        ConfigException e = f.fails();
        assertThat(e.file()).hasValue(bad.toString());
        assertThat(e.line()).hasValue(2);
        assertThat(e.getMessage()).startsWith(bad + ":2: HOCON syntax error: ");
    }

    @Test
    void syntaxErrorInTheOverridesHasALineButNoFile() {
        f.overrides = "mancom.io-threads = 1\nmancom {\n";

        ConfigException e = f.fails();
        assertThat(e.file()).isEmpty();
        assertThat(e.line()).hasValue(3);
        assertThat(e.getMessage()).startsWith("HOCON syntax error: ").endsWith(" (from overrides, line 3)");
    }

    @Test
    void serviceWithoutEndpoint() {
        Path etc = f.etcFile("mancom.services {", "  echo {", "    handler = discard", "  }", "}");

        assertError(f.fails(), etc, 2, "mancom.services.echo.endpoint",
                "found no endpoint but expected one, such as endpoint = \"tcp://0.0.0.0:7000\","
                        + " \"serial:///dev/ttyUSB0?baud=115200\" or \"usb://16c0:05dc\"");
    }

    @Test
    void anEndpointAnOptionalSubstitutionLeftOutIsReportedAtTheService() {
        // Found by ConfigLoaderFuzzTest: with the block emptied, the error pointed at the merged
        // defaults, which have no file and line.
        Path etc = f.etcFile("mancom.defaults.handler = discard", "mancom.services.y.endpoint = ${?NOT_SET}");

        assertError(f.fails(), etc, 2, "mancom.services.y.endpoint",
                "found no endpoint but expected one, such as endpoint = \"tcp://0.0.0.0:7000\","
                        + " \"serial:///dev/ttyUSB0?baud=115200\" or \"usb://16c0:05dc\"");
    }

    @Test
    void aValueMergedFromTheFileAndTheDefaultsIsReportedAtTheFile() {
        // Found by ConfigLoaderFuzzTest: Typesafe reports the bad += at the merge of the file's
        // defaults block and reference.conf's, an origin with no file name of its own.
        Path etc = f.etcFile("mancom.defaults.mux= on", "mancom.defaults+= manc");

        ConfigException e = f.fails();
        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.line()).hasValue(1);
        assertThat(e.getMessage()).startsWith(etc + ":1: ").contains("Cannot concatenate");
    }

    @Test
    void badEndpointReusesTheParsersExplanation() {
        Path etc = f.etcFile("mancom.services {", "  echo.endpoint = \"tcp://x:abc\"", "}");

        assertError(f.fails(), etc, 2, "mancom.services.echo.endpoint",
                "found \"tcp://x:abc\" but expected an endpoint URI: tcp port 'abc' in 'tcp://x:abc' is not a number 0..65535");
    }

    @Test
    void endpointWithoutPort() {
        Path etc = f.etcFile("mancom.services.echo.endpoint = \"tcp://x\"");

        assertError(f.fails(), etc, 1, "mancom.services.echo.endpoint",
                "found \"tcp://x\" but expected an endpoint URI: tcp endpoint 'tcp://x' needs a host and a port: tcp://HOST:PORT");
    }

    @Test
    void unknownScheme() {
        Path etc = f.etcFile("mancom.services.echo.endpoint = \"udp://h:1\"");

        assertError(f.fails(), etc, 1, "mancom.services.echo.endpoint",
                "found \"udp://h:1\" but expected an endpoint URI: unknown endpoint scheme 'udp': expected one of tcp, serial, usb");
    }

    @Test
    void durationThatIsNotADuration() {
        Path etc = f.etcFile("mancom.defaults {", "  connect-timeout = \"soon\"", "}");

        assertError(f.fails(), etc, 2, "mancom.defaults.connect-timeout",
                "found \"soon\" but expected a duration such as 100ms, 5s or 1m, from 1ms to 1d");
    }

    @Test
    void durationOutOfRange() {
        Path etc = f.etcFile("mancom.services.echo { endpoint = \"tcp://h:1\", connect-timeout = 0s }");

        assertError(f.fails(), etc, 1, "mancom.services.echo.connect-timeout",
                "found \"0s\" but expected a duration such as 100ms, 5s or 1m, from 1ms to 1d");
    }

    @Test
    void sizeThatIsNotASize() {
        Path etc = f.etcFile("mancom.services.echo {", "  endpoint = \"tcp://h:1\"", "  write-buffer.high-water = lots", "}");

        assertError(f.fails(), etc, 3, "mancom.services.echo.write-buffer.high-water",
                "found \"lots\" but expected a size such as 64KiB or 16MiB, from 1 byte to 1GiB");
    }

    @Test
    void sizeTooLargeForAnInt() {
        Path etc = f.etcFile("mancom.defaults.blocking.read-buffer = 2GiB");

        assertError(f.fails(), etc, 1, "mancom.defaults.blocking.read-buffer",
                "found \"2GiB\" (2147483648 bytes) but expected a size such as 64KiB or 16MiB, from 1 byte to 1GiB");
    }

    @Test
    void negativeIoThreads() {
        Path etc = f.etcFile("mancom.io-threads = -1");

        assertError(f.fails(), etc, 1, "mancom.io-threads", "found -1 but expected an integer from 0 to 1024");
    }

    @Test
    void fractionalIoThreads() {
        Path etc = f.etcFile("mancom.io-threads = 1.5");

        assertError(f.fails(), etc, 1, "mancom.io-threads", "found 1.5 but expected an integer from 0 to 1024");
    }

    @Test
    void switchThatIsNotASwitch() {
        Path etc = f.etcFile("mancom.defaults.reconnect.enabled = maybe");

        assertError(f.fails(), etc, 1, "mancom.defaults.reconnect.enabled", "found \"maybe\" but expected on or off");
    }

    @Test
    void shorthandSwitchThatIsNotASwitchIsReportedWhereItIsWritten() {
        Path etc = f.etcFile("mancom.services.echo {", "  endpoint = \"tcp://h:1\"", "  reconnect = sometimes", "}");

        assertError(f.fails(), etc, 3, "mancom.services.echo.reconnect.enabled",
                "found \"sometimes\" but expected on or off");
    }

    @Test
    void blockThatIsNotABlock() {
        Path etc = f.etcFile("mancom.defaults.write-buffer = 5");

        assertError(f.fails(), etc, 1, "mancom.defaults.write-buffer", "found 5 but expected a block { ... }");
    }

    @Test
    void nullWhereAValueIsNeeded() {
        Path etc = f.etcFile("mancom.defaults.connect-timeout = null");

        assertError(f.fails(), etc, 1, "mancom.defaults.connect-timeout",
                "found null but expected a duration such as 100ms, 5s or 1m, from 1ms to 1d");
    }

    @Test
    void lowWaterAboveHighWaterBlamesTheValueTheServiceSets() {
        Path etc = f.etcFile("mancom.services.echo {", "  endpoint = \"tcp://h:1\"", "  write-buffer.low-water = 512KiB", "}");

        assertError(f.fails(), etc, 3, "mancom.services.echo.write-buffer.low-water",
                "found 512KiB but expected at most high-water, which is 256KiB (reference.conf (defaults))");
    }

    @Test
    void highWaterBelowLowWaterBlamesHighWaterWhenThatIsWhatChanged() {
        Path etc = f.etcFile("mancom.services.echo {", "  endpoint = \"tcp://h:1\"", "  write-buffer.high-water = 16KiB", "}");

        assertError(f.fails(), etc, 3, "mancom.services.echo.write-buffer.high-water",
                "found 16KiB but expected at least low-water, which is 128KiB (reference.conf (defaults))");
    }

    @Test
    void lowWaterAboveHighWaterInheritedFromAFileNamesItsLocation() {
        Path etc = f.etcFile("mancom.defaults.write-buffer.high-water = 200KiB",
                "mancom.services.echo { endpoint = \"tcp://h:1\", write-buffer.low-water = 300KiB }");

        assertError(f.fails(), etc, 2, "mancom.services.echo.write-buffer.low-water",
                "found 300KiB but expected at most high-water, which is 200KiB (" + etc + ":1)");
    }

    @Test
    void highWaterAboveMaxPending() {
        Path etc = f.etcFile("mancom.defaults.write-buffer.high-water = 32MiB");

        ConfigException e = f.fails();
        assertError(e, etc, 1, "mancom.defaults.write-buffer.high-water",
                "found 32MiB but expected at most max-pending, which is 16MiB (reference.conf (defaults))");
        // The demo service inherits the same bad pair; that is the same problem, reported once.
        assertThat(e.getSuppressed()).isEmpty();
    }

    @Test
    void initialDelayAboveMaxDelay() {
        Path etc = f.etcFile("mancom.defaults.reconnect.initial-delay = 10s");

        assertError(f.fails(), etc, 1, "mancom.defaults.reconnect.initial-delay",
                "found 10s but expected at most max-delay, which is 5s (reference.conf (defaults))");
    }

    @Test
    void unknownHandler() {
        Path etc = f.etcFile("mancom.services.echo { endpoint = \"tcp://h:1\", handler = ecko }");

        assertError(f.fails(), etc, 1, "mancom.services.echo.handler", "found \"ecko\" but expected one of: echo, discard, forward, http-proxy, tunnel");
    }

    @Test
    void unknownKeyInAServiceSuggestsTheNearestAndListsTheAllowedOnes() {
        Path etc = f.etcFile("mancom.services.echo {", "  endpoint = \"tcp://h:1\"", "  conect-timeout = 1s", "}");

        assertError(f.fails(), etc, 3, "mancom.services.echo.conect-timeout",
                "found unknown key \"conect-timeout\" but expected one of: " + SERVICE_KEYS
                        + " (did you mean \"connect-timeout\"?)");
    }

    @Test
    void unknownKeyWithNothingClose() {
        Path etc = f.etcFile("mancom.services.echo { endpoint = \"tcp://h:1\", colour = red }");

        assertError(f.fails(), etc, 1, "mancom.services.echo.colour",
                "found unknown key \"colour\" but expected one of: " + SERVICE_KEYS);
    }

    @Test
    void unknownKeyInsideABlockCoreOwns() {
        Path etc = f.etcFile("mancom.services.echo {", "  endpoint = \"tcp://h:1\"", "  write-buffer { hihg-water = 1MiB }", "}");

        assertError(f.fails(), etc, 3, "mancom.services.echo.write-buffer.hihg-water",
                "found unknown key \"hihg-water\" but expected one of: high-water, low-water, max-pending"
                        + " (did you mean \"high-water\"?)");
    }

    @Test
    void blocksOfOtherModulesAreOnlyCheckedByTheirName() {
        f.etcFile("mancom.services.echo { endpoint = \"tcp://h:1\", tcp { anything = 1 } }");

        assertThat(f.load().services().get("echo").config().getInt("tcp.anything")).isEqualTo(1);
    }

    @Test
    void theMuxBlockIsCheckedByTheLoaderAsTheRuntimeChecksIt() {
        // Core's own mux block: what ManCom.start rejects, config check rejects too.
        Path etc = f.etcFile("mancom.services.echo { endpoint = \"tcp://h:1\", mux { window = x } }");

        assertThat(f.fails().getMessage()).startsWith(etc + ":1: mancom.services.echo.mux.window: found unknown key");
    }

    @Test
    void unknownKeyInDefaultsIsReportedOnceUnderDefaults() {
        Path etc = f.etcFile("mancom.defaults.conect-timeout = 1s", "mancom.services.a.endpoint = \"tcp://h:1\"");

        ConfigException e = f.fails();
        assertError(e, etc, 1, "mancom.defaults.conect-timeout",
                "found unknown key \"conect-timeout\" but expected one of: allow, blocking, connect-timeout, forward, framing,"
                        + " handler, hold, link, listen, match, mux, reconnect, scope, sniff, tcp, tls, tunnel, via, write-buffer (did you mean"
                        + " \"connect-timeout\"?)");
        assertThat(e.getSuppressed()).isEmpty();
    }

    @Test
    void endpointIsNotADefault() {
        Path etc = f.etcFile("mancom.defaults.endpoint = \"tcp://h:1\"");

        assertThat(f.fails().getMessage()).startsWith(etc + ":1: mancom.defaults.endpoint: found unknown key \"endpoint\"");
    }

    @Test
    void unknownKeyUnderMancomListsTheKnownOnes() {
        Path etc = f.etcFile("mancom {", "  io-thread = 2", "}");

        assertError(f.fails(), etc, 2, "mancom.io-thread",
                "found unknown key \"io-thread\" but expected one of: control, daemon, defaults, io-threads, metrics, runtime-dir, services"
                        + " (did you mean \"io-threads\"?)");
    }

    @Test
    void servicesThatIsNotABlock() {
        Path etc = f.etcFile("mancom.services = [1, 2]");

        assertError(f.fails(), etc, 1, "mancom.services", "found a list [1,2] but expected a block with one entry per"
                + " service, such as services { echo { endpoint = \"tcp://0.0.0.0:7000\" } }");
    }

    @Test
    void serviceThatIsNotABlock() {
        Path etc = f.etcFile("mancom.services.echo = \"tcp://h:1\"");

        assertError(f.fails(), etc, 1, "mancom.services.echo",
                "found \"tcp://h:1\" but expected a block such as echo { endpoint = \"tcp://0.0.0.0:7000\" }");
    }

    @Test
    void serviceNameWithASpace() {
        Path etc = f.etcFile("mancom.services {", "  \"my echo\" { endpoint = \"tcp://h:1\" }", "}");

        assertError(f.fails(), etc, 2, "mancom.services.\"my echo\"",
                "found service name \"my echo\" but expected a name of letters, digits, '_', '.' and '-' only");
    }

    @Test
    void aServiceNameWithANewlineIsShownEscapedOnOneLine() {
        // Found by ConfigLoaderFuzzTest: the raw name made the message two lines.
        Path etc = f.etcFile("mancom.services { \"a\\nb\" { endpoint = \"tcp://h:1\" } }");

        assertError(f.fails(), etc, 1, "mancom.services.\"a\\nb\"",
                "found service name \"a\\nb\" but expected a name of letters, digits, '_', '.' and '-' only");
    }

    @Test
    void aSyntaxErrorQuotingAStringWithLineBreaksIsOneLine() {
        // Found by ConfigLoaderFuzzTest: Typesafe's parse error repeats the tokens after the bad
        // key, a string's value with its "\n" unescaped and a raw NUL among them.
        Path etc = f.etcFile("mancom.services.s${ endpoint = \"tcp://a\\nb\", scope = sys\u0000tem }");

        ConfigException e = f.fails();
        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.line()).hasValue(1);
        assertThat(e.getMessage()).doesNotContain("\n", "\u0000")
                .contains("HOCON syntax error", "'tcp://a\\nb'", "sys\\u0000tem");
    }

    @Test
    void mancomThatIsNotABlock() {
        Path etc = f.etcFile("mancom = 1");

        assertError(f.fails(), etc, 1, "mancom", "found 1 but expected a block mancom { ... }");
    }

    @Test
    void systemPropertyErrorSaysWhichProperty() {
        f.props.setProperty("mancom.defaults.connect-timeout", "soon");

        ConfigException e = f.fails();
        assertThat(e.file()).isEmpty();
        assertThat(e.line()).isEmpty();
        assertThat(e.key()).hasValue("mancom.defaults.connect-timeout");
        assertThat(e.getMessage()).isEqualTo("mancom.defaults.connect-timeout: found \"soon\" but expected a duration"
                + " such as 100ms, 5s or 1m, from 1ms to 1d (from system property -Dmancom.defaults.connect-timeout)");
    }

    @Test
    void systemPropertyErrorInAServiceNamesThatProperty() {
        f.props.setProperty("mancom.services.echo.endpoint", "tcp://h:1");
        f.props.setProperty("mancom.services.echo.handler", "reverse");

        assertThat(f.fails().getMessage()).isEqualTo("mancom.services.echo.handler: found \"reverse\" but expected"
                + " one of: echo, discard, forward, http-proxy, tunnel (from system property -Dmancom.services.echo.handler)");
    }

    @Test
    void overridesErrorSaysLine() {
        f.overrides = "\nmancom.io-threads = many\n";

        ConfigException e = f.fails();
        assertThat(e.file()).isEmpty();
        assertThat(e.line()).hasValue(2);
        assertThat(e.getMessage()).isEqualTo(
                "mancom.io-threads: found \"many\" but expected an integer from 0 to 1024 (from overrides, line 2)");
    }

    @Test
    void missingMancomConfigFileIsAnError() {
        Path missing = tmp.resolve("nope.conf");
        f.env.put("MANCOM_CONFIG", missing.toString());

        ConfigException e = f.fails();
        assertThat(e.file()).hasValue(missing.toString());
        assertThat(e.line()).isEmpty();
        assertThat(e.getMessage()).isEqualTo(missing + ": no such file; it is named by $MANCOM_CONFIG, so it must"
                + " exist (unset the variable to use the usual files)");
    }

    @Test
    void mancomConfigNamingAFolderIsAnError() throws Exception {
        Files.createDirectories(tmp.resolve("dir"));
        f.env.put("MANCOM_CONFIG", tmp.resolve("dir").toString());

        assertThat(f.fails().getMessage())
                .isEqualTo(tmp.resolve("dir") + ": not a regular file; expected a HOCON config file");
    }

    @Test
    void missingExplicitConfigFileIsAnError() {
        f.configFile = tmp.resolve("explicit.conf");

        assertThat(f.fails().getMessage()).isEqualTo(f.configFile + ": no such file; it was named explicitly"
                + " (ManCom.Builder.configFile or --config), so it must exist");
    }

    @Test
    void missingFileForLoadFileIsAnError() {
        Path missing = tmp.resolve("check.conf");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ConfigLoader.loadFile(missing))
                .isInstanceOf(ConfigException.class)
                .hasMessage(missing + ": no such file; it was named explicitly, so it must exist");
    }

    @Test
    void unresolvedSubstitution() {
        Path etc = f.etcFile("mancom.services.echo {", "  endpoint = ${ECHO_ENDPOINT}", "}");

        ConfigException e = f.fails();
        assertThat(e.file()).hasValue(etc.toString());
        assertThat(e.line()).hasValue(2);
        assertThat(e.getMessage()).isEqualTo(etc + ":2: Could not resolve substitution to a value: ${ECHO_ENDPOINT};"
                + " set it in a config file or the environment, or write ${?NAME} to make it optional");
    }

    @Test
    void substitutionsDoNotSeeTheProcessEnvironment() {
        // PATH is set in every real process environment, but not in the builder's.
        f.etcFile("x = ${PATH}");

        assertThat(f.fails().getMessage()).contains("${PATH}");
    }

    @Test
    void everyProblemIsCollectedFirstThrownRestSuppressed() {
        Path etc = f.etcFile(
                "mancom.io-threads = -1",
                "mancom.services {",
                "  a { endpoint = \"tcp://x\" }",
                "  b { handler = ecko }",
                "}");

        ConfigException e = f.fails();
        assertThat(e.getMessage()).isEqualTo(etc + ":1: mancom.io-threads: found -1 but expected an integer from 0 to 1024");
        assertThat(Arrays.stream(e.getSuppressed()).map(Throwable::getMessage)).containsExactly(
                etc + ":3: mancom.services.a.endpoint: found \"tcp://x\" but expected an endpoint URI: tcp endpoint"
                        + " 'tcp://x' needs a host and a port: tcp://HOST:PORT",
                etc + ":4: mancom.services.b.endpoint: found no endpoint but expected one, such as endpoint ="
                        + " \"tcp://0.0.0.0:7000\", \"serial:///dev/ttyUSB0?baud=115200\" or \"usb://16c0:05dc\"",
                etc + ":4: mancom.services.b.handler: found \"ecko\" but expected one of: echo, discard, forward, http-proxy, tunnel");
    }

    @Test
    void unknownServiceNamesTheConfiguredOnes() {
        f.etcFile("mancom.services.echo.endpoint = \"tcp://h:1\"");
        RuntimeSettings s = f.load();

        assertThat(s.service("echo").name()).isEqualTo("echo");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.service("ecko"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("mancom.services.ecko: no service \"ecko\" is configured; configured services: demo, echo"
                        + " (add mancom.services.ecko { endpoint = \"tcp://HOST:PORT\" } to a config file)");
    }
}
