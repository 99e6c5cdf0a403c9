package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.core.internal.config.ServicePlan;
import io.mancom.core.internal.mux.MuxStreamAcceptor;
import io.mancom.core.spi.RuntimeSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bind and unbind reference counting and readiness, against a transport that opens nothing. */
class BinderTest {
    @TempDir
    Path tmp;

    private final Object lock = new Object();
    private final FakeTransport transport = new FakeTransport();
    private final Map<String, Service> services = new TreeMap<>();

    private Binder binder(String hocon) {
        RuntimeSettings settings = FakeTransport.settings(tmp, hocon);
        settings.services().forEach((n, s) -> services.put(n, new Service(s)));
        for (ServicePlan.SharedLink link : ServicePlan.of(settings).sharedLinks()) {
            LinkGroup g = new LinkGroup(link.endpoint(), link.members().stream().map(services::get).toList());
            g.members.values().forEach(m -> m.group = g);
        }
        return new Binder(lock, transport.registry(), s -> null,
                g -> new MuxLinkSink(lock, g, false, null, MuxStreamAcceptor.REFUSE_ALL, link -> { }), p -> null,
                (service, failure) -> { });
    }

    private static Callbacks.Acceptor acceptor() {
        return new Callbacks.Acceptor(c -> { }, null);
    }

    /** What a registration does: take a mode, add a callback, bind. */
    private void register(Binder b, Service s, Callbacks.Acceptor a) {
        synchronized (lock) {
            s.mode = Service.Mode.CALLBACK;
            s.acceptors.add(a);
            b.bind(s);
        }
    }

    private void unregister(Binder b, Service s, Callbacks.Acceptor a) {
        synchronized (lock) {
            s.acceptors.remove(a);
            b.unbindIfUnused(s);
        }
    }

    @Test
    void theFirstRegistrationBindsAndTheLastUnbinds() {
        Binder b = binder("mancom.services.echo.endpoint = \"tcp://127.0.0.1:7000\"");
        Service echo = services.get("echo");
        Callbacks.Acceptor one = acceptor();
        Callbacks.Acceptor two = acceptor();

        register(b, echo, one);
        register(b, echo, two);
        assertThat(transport.listens).hasSize(1);

        unregister(b, echo, one);
        assertThat(transport.listens.get(0).closed).isFalse();
        assertThat(echo.ready).isNotNull();

        unregister(b, echo, two);
        assertThat(transport.listens.get(0).closed).isTrue();
        assertThat(echo.ready).isNull();
        assertThat(echo.mode).isEqualTo(Service.Mode.NONE);
    }

    @Test
    void aListenerThatFailedIsClosedAndTriedAgainByTheNextRegistration() {
        Binder b = binder("mancom.services.echo.endpoint = \"tcp://127.0.0.1:7000\"");
        Service echo = services.get("echo");
        register(b, echo, acceptor());
        transport.listens.get(0).ready.completeExceptionally(
                new ManComException(ManComException.Reason.ADDRESS_IN_USE, "in use"));

        register(b, echo, acceptor());

        assertThat(transport.listens).hasSize(2);
        assertThat(transport.listens.get(0).closed).isTrue();
        assertThat(transport.listens.get(1).closed).isFalse();
    }

    @Test
    void aServiceThatDoesNotListenIsReadyWithoutBinding() {
        Binder b = binder("mancom.services.c { endpoint = \"tcp://127.0.0.1:7000\", listen = off }");
        Service c = services.get("c");

        register(b, c, acceptor());

        assertThat(transport.listens).isEmpty();
        assertThat(c.boundEndPoint()).isEqualTo(EndPoint.parse("tcp://127.0.0.1:7000"));
    }

    @Test
    void membersOfASharedLinkShareOneListenerUntilTheLastGoes() {
        Binder b = binder("mancom.services { a { endpoint = \"tcp://127.0.0.1:7000\", mux = on }\n"
                + " b { endpoint = \"tcp://127.0.0.1:7000\", mux = on } }");
        Service a = services.get("a");
        Service bs = services.get("b");
        Callbacks.Acceptor ca = acceptor();
        Callbacks.Acceptor cb = acceptor();

        register(b, a, ca);
        register(b, bs, cb);
        assertThat(transport.listens).hasSize(1);
        assertThat(transport.listens.get(0).sink.service()).isEqualTo("a, b");

        unregister(b, a, ca);
        assertThat(transport.listens.get(0).closed).isFalse();
        unregister(b, bs, cb);
        assertThat(transport.listens.get(0).closed).isTrue();
        assertThat(a.group.ready).isNull();
    }

    @Test
    void awaitReadyNamesEachServiceNotReadyWithTheFirstFailuresReason() {
        Binder b = binder("mancom.services { a.endpoint = \"tcp://127.0.0.1:7000\"\n"
                + " b.endpoint = \"tcp://127.0.0.1:7001\"\n c.endpoint = \"tcp://127.0.0.1:7002\" }");
        register(b, services.get("a"), acceptor());
        register(b, services.get("b"), acceptor());
        register(b, services.get("c"), acceptor());
        transport.listens.get(0).ready.completeExceptionally(
                new ManComException(ManComException.Reason.ADDRESS_IN_USE, "port 7000 is taken"));
        transport.listens.get(2).ready.complete(EndPoint.parse("tcp://127.0.0.1:7002"));

        assertThatThrownBy(() -> b.awaitReady(services.values(), Duration.ofMillis(50)))
                .isInstanceOfSatisfying(ManComException.class,
                        e -> assertThat(e.reason()).isEqualTo(ManComException.Reason.ADDRESS_IN_USE))
                .hasMessageContaining("2 of 3 service(s) not ready after PT0.05S")
                .hasMessageContaining("a (tcp://127.0.0.1:7000): port 7000 is taken")
                .hasMessageContaining("b (tcp://127.0.0.1:7001): not serving yet");
        assertThat(Binder.bound(services.values())).containsOnlyKeys("c");
    }

    @Test
    void closeListenersClosesEveryListener() {
        Binder b = binder("mancom.services { a.endpoint = \"tcp://127.0.0.1:7000\"\n"
                + " m { endpoint = \"tcp://127.0.0.1:7001\", mux = on } }");
        register(b, services.get("a"), acceptor());
        register(b, services.get("m"), acceptor());

        synchronized (lock) {
            b.closeListeners(List.copyOf(services.values()));
        }

        assertThat(transport.listens).hasSize(2).allMatch(l -> l.closed);
    }
}
