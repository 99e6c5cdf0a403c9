package io.mancom.core.spi;

import io.mancom.ConfigException;
import io.mancom.ManCom;
import io.mancom.spi.TransportContext;
import io.mancom.testkit.TestManCom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What mancom-core promises outside itself: the packages it exports, the runtime as the transports'
 * {@link TransportContext}, and {@link ConfigTools} for the CLI.
 */
class ContractTest {
    private static final String SPI = "io.mancom.core.spi";
    private static final String INTERNAL = "io.mancom.core.internal";

    @TempDir
    Path tmp;

    @Test
    void moduleExportsOnlyTheContractAndEveryOtherPackageIsInternal() throws IOException, URISyntaxException {
        Path classes = Path.of(ChannelSink.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ModuleDescriptor module;
        try (InputStream in = Files.newInputStream(classes.resolve("module-info.class"))) {
            module = ModuleDescriptor.read(in);
        }
        Set<String> exported = module.exports().stream().map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toCollection(TreeSet::new));
        assertThat(exported).containsExactly(SPI, SPI + ".device");
        assertThat(module.exports()).allMatch(e -> !e.isQualified());
        assertThat(module.provides()).anyMatch(p -> p.service().equals("io.mancom.spi.RuntimeProvider"));

        Set<String> packages;
        try (Stream<Path> files = Files.walk(classes)) {
            packages = files.filter(f -> f.toString().endsWith(".class") && !f.endsWith("module-info.class"))
                    .map(f -> classes.relativize(f.getParent()).toString().replace('/', '.'))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(packages).isNotEmpty()
                .allMatch(p -> p.equals(SPI) || p.startsWith(SPI + ".") || p.equals(INTERNAL) || p.startsWith(INTERNAL + "."),
                        "an exported package or one under " + INTERNAL);
    }

    @Test
    void theStartedRuntimeIsATransportContextOfferingNettyAndSettings() {
        try (ManCom m = TestManCom.start("mancom.control = off")) {
            assertThat(m).isInstanceOf(TransportContext.class);
            TransportContext context = (TransportContext) m;
            NettyRuntime netty = context.unwrap(NettyRuntime.class);
            assertThat(netty.group().isShuttingDown()).isFalse();
            assertThat(netty.isNative()).isEqualTo(netty.socketChannelType().getSimpleName().startsWith("Epoll"));
            assertThat(context.unwrap(RuntimeSettings.class).services()).containsOnlyKeys(m.services());
            assertThatThrownBy(() -> context.unwrap(Thread.class))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(NettyRuntime.class.getName());
        }
    }

    @Test
    void configToolsLoadsAndReportsAsTheRuntimeDoes() throws IOException {
        Path file = Files.writeString(tmp.resolve("m.conf"), "mancom.services.echo.endpoint = \"tcp://127.0.0.1:7\"\n");
        RuntimeSettings settings = ConfigTools.loadFile(file);
        assertThat(settings.services()).containsKey("echo");
        assertThat(ConfigTools.report(settings))
                .contains(file.toString())
                .contains("Service echo: tcp://127.0.0.1:7")
                .contains("endpoint = tcp://127.0.0.1:7");

        RuntimeSettings viaBuilder = ConfigTools.load(TestManCom.options("mancom.services.x.endpoint = \"tcp://127.0.0.1:9\""));
        assertThat(viaBuilder.service("x").endpoint().toString()).isEqualTo("tcp://127.0.0.1:9");

        Path bad = Files.writeString(tmp.resolve("bad.conf"),
                "mancom.services.echo { endpoint = \"tcp://127.0.0.1:7\", connect-timeout = soon }\n");
        assertThatThrownBy(() -> ConfigTools.loadFile(bad))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(bad + ":1: mancom.services.echo.connect-timeout: found \"soon\"");
    }
}
