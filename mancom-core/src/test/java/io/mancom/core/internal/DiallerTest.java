package io.mancom.core.internal;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.core.internal.config.ServicePlan;
import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxStreamAcceptor;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.RuntimeSettings;
import io.netty.channel.Channel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** Where the dialler dials, shared dials of a shared link, and how each failure is reported. */
class DiallerTest {
    @TempDir
    Path tmp;

    private final Object lock = new Object();
    private final FakeTransport transport = new FakeTransport();
    private final Map<String, Service> services = new TreeMap<>();
    private boolean closed;

    private static final DataReceiver NOTHING = (c, d) -> { };

    private Dialler dialler(String hocon) {
        RuntimeSettings settings = FakeTransport.settings(tmp, hocon);
        settings.services().forEach((n, s) -> services.put(n, new Service(s)));
        for (ServicePlan.SharedLink link : ServicePlan.of(settings).sharedLinks()) {
            LinkGroup g = new LinkGroup(link.endpoint(), link.members().stream().map(services::get).toList());
            g.members.values().forEach(m -> m.group = g);
        }
        return new Dialler(lock, transport.registry(), new Dialler.Links() {
            @Override
            public boolean closed() {
                return closed;
            }

            @Override
            public void openClient(Service s, Channel ch, Inbound inbound) {
                throw new AssertionError("no link opens in these tests");
            }

            @Override
            public ChannelSink dialedLinkSink(LinkGroup g, CompletableFuture<MuxSessionHandler> session) {
                return new MuxLinkSink(lock, g, true, session, MuxStreamAcceptor.REFUSE_ALL, link -> { });
            }
        });
    }

    private static ManComException failure(CompletableFuture<?> f) {
        assertThat(f).isCompletedExceptionally();
        return Futures.asManCom(f);
    }

    @Test
    void dialsTheConfiguredEndpoint() {
        Dialler d = dialler("mancom.services.echo.endpoint = \"tcp://127.0.0.1:7000\"");

        CompletableFuture<Connection> c = d.connectAsync(services.get("echo"), NOTHING);

        assertThat(transport.dials).hasSize(1);
        assertThat(transport.dials.get(0).target()).isEqualTo(EndPoint.parse("tcp://127.0.0.1:7000"));
        assertThat(c).isNotDone();
    }

    @Test
    void aServiceThisRuntimeServesOnAWildcardIsDialledOnLoopbackAtItsBoundPort() {
        Dialler d = dialler("mancom.services.echo.endpoint = \"tcp://0.0.0.0:0\"");
        services.get("echo").ready = CompletableFuture.completedFuture(EndPoint.parse("tcp://0.0.0.0:41234"));

        d.connectBlocking(services.get("echo"), Duration.ofSeconds(1));

        assertThat(transport.dials.get(0).target()).isEqualTo(EndPoint.parse("tcp://127.0.0.1:41234"));
    }

    @Test
    void anUnservedPortZeroFailsAtOnceSayingWhy() {
        Dialler d = dialler("mancom.services.echo.endpoint = \"tcp://127.0.0.1:0\"");

        ManComException e = failure(d.connectAsync(services.get("echo"), NOTHING));

        assertThat(e.reason()).isEqualTo(ManComException.Reason.UNREACHABLE);
        assertThat(e.getMessage()).contains("has port 0 (any free port)");
        assertThat(transport.dials).isEmpty();
    }

    @Test
    void aClosedRuntimeDialsNothing() {
        Dialler d = dialler("mancom.services.echo.endpoint = \"tcp://127.0.0.1:7000\"");
        closed = true;

        assertThat(failure(d.connectAsync(services.get("echo"), NOTHING)).reason())
                .isEqualTo(ManComException.Reason.CLOSED);
        assertThat(transport.dials).isEmpty();
    }

    @Test
    void theTransportsFailureIsTheConnectsFailure() {
        Dialler d = dialler("mancom.services.echo.endpoint = \"tcp://127.0.0.1:7000\"");
        CompletableFuture<Connection> c = d.connectAsync(services.get("echo"), NOTHING);

        transport.dials.get(0).done().completeExceptionally(
                new ManComException(ManComException.Reason.UNREACHABLE, "connection refused"));

        assertThat(failure(c).getMessage()).isEqualTo("connection refused");
    }

    @Test
    void concurrentConnectsOfASharedLinkShareOneDialAndItsFailure() {
        Dialler d = dialler("mancom.services { a { endpoint = \"tcp://127.0.0.1:7000\", mux = on }\n"
                + " b { endpoint = \"tcp://127.0.0.1:7000\", mux = on } }");

        CompletableFuture<Connection> first = d.connectAsync(services.get("a"), NOTHING);
        CompletableFuture<BlockingAdapter> second = d.connectBlocking(services.get("b"), Duration.ofSeconds(1));

        assertThat(transport.dials).hasSize(1);
        assertThat(transport.dials.get(0).sink().service()).isEqualTo("a, b");
        transport.dials.get(0).done().completeExceptionally(
                new ManComException(ManComException.Reason.UNREACHABLE, "connection refused"));
        assertThat(failure(first).getMessage()).isEqualTo("connection refused");
        assertThat(failure(second).getMessage()).isEqualTo("connection refused");

        // A failed dial is not shared with the next connect: it dials again.
        d.connectAsync(services.get("a"), NOTHING);
        assertThat(transport.dials).hasSize(2);
    }

    @Test
    void aViaThatIsNotAStreamIsRefused() {
        Dialler d = dialler("mancom.services.echo.endpoint = \"tcp://127.0.0.1:7000\"");
        Connection notAStream = (Connection) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[]{Connection.class}, (p, m, a) -> null);

        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> d.connectAsync(services.get("echo"), NOTHING, notAStream))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a stream of a multiplexed link");
    }
}
