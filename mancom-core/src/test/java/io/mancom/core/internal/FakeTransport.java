package io.mancom.core.internal;

import io.mancom.EndPoint;
import io.mancom.ManCom;
import io.mancom.TransportType;
import io.mancom.core.internal.config.ConfigLoader;
import io.mancom.core.spi.RuntimeSettings;
import io.mancom.spi.LinkSink;
import io.mancom.spi.Listener;
import io.mancom.spi.Transport;
import io.mancom.spi.TransportContext;
import io.mancom.spi.TransportProvider;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tcp transport that opens nothing: it records each listen and connect and lets the test
 * decide when (and how) each one completes. Thread-safe.
 */
final class FakeTransport implements Transport {
    /** One listen: its endpoint, its ready future (the test completes it) and whether it was closed. */
    static final class Listen implements Listener {
        final EndPoint endpoint;
        final LinkSink sink;
        final CompletableFuture<EndPoint> ready = new CompletableFuture<>();
        volatile boolean closed;

        Listen(EndPoint endpoint, LinkSink sink) {
            this.endpoint = endpoint;
            this.sink = sink;
        }

        @Override
        public CompletionStage<EndPoint> ready() {
            return ready;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** One connect: its target, and the future the test completes. */
    record Dial(EndPoint target, LinkSink sink, CompletableFuture<Void> done) {
    }

    final List<Listen> listens = new CopyOnWriteArrayList<>();
    final List<Dial> dials = new CopyOnWriteArrayList<>();

    @Override
    public Listener listen(EndPoint endpoint, LinkSink sink) {
        Listen l = new Listen(endpoint, sink);
        listens.add(l);
        return l;
    }

    @Override
    public CompletionStage<Void> connect(EndPoint endpoint, LinkSink sink, Duration timeout) {
        Dial d = new Dial(endpoint, sink, new CompletableFuture<>());
        dials.add(d);
        return d.done();
    }

    @Override
    public void close() {
    }

    /** A registry whose tcp transport is this one. */
    TransportRegistry registry() {
        TransportContext context = new TransportContext() {
            @Override
            public <T> T unwrap(Class<T> type) {
                throw new IllegalArgumentException("no " + type);
            }
        };
        return new TransportRegistry(context, List.of(new TransportProvider() {
            @Override
            public String scheme() {
                return "tcp";
            }

            @Override
            public TransportType type() {
                return TransportType.TCP;
            }

            @Override
            public Transport create(TransportContext c) {
                return FakeTransport.this;
            }
        }));
    }

    /** Settings from {@code hocon} alone (no system or user files). */
    static RuntimeSettings settings(Path emptyDir, String hocon) {
        return ConfigLoader.load(io.mancom.spi.RuntimeOptions.defaults().withSystemConfigDir(emptyDir)
                .withEnvironment(java.util.Map.of()).withOverrides(hocon));
    }
}
