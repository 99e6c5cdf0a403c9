package io.mancom.core.internal.daemon;

import io.mancom.EndPoint;
import io.mancom.ManComException;
import io.mancom.core.internal.config.DaemonSettings;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.NettyRuntime;
import io.mancom.spi.LinkSink;
import io.mancom.spi.Listener;
import io.mancom.spi.Transport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The transport of every {@code scope = system} service: instead of binding or opening the
 * endpoint, {@link #listen} attaches the service to the system daemon, which owns the endpoint and
 * hands the service's connections over ({@link Attachment}, docs/daemon.md). Dialling is not the
 * daemon's: {@link #connect} fails, and the runtime dials TCP services itself.
 *
 * <p>Needs Linux with Netty's native epoll (Unix sockets that carry descriptors); without it
 * {@link #listen} returns a listener that failed with a message that says so. Thread-safe.
 */
public final class SystemTransport implements Transport {
    private final NettyRuntime runtime;
    private final Path socket;
    private final Set<Attachment> attachments = ConcurrentHashMap.newKeySet();

    public SystemTransport(NettyRuntime runtime, DaemonSettings settings) {
        this.runtime = runtime;
        this.socket = settings.socket();
    }

    @Override
    public Listener listen(EndPoint endpoint, LinkSink sink) {
        if (!(sink instanceof ChannelSink channels)) {
            throw new IllegalArgumentException("the system scope needs the ManCom core runtime's ChannelSink, got "
                    + sink.getClass().getName());
        }
        if (!runtime.isNative()) {
            return failed(new ManComException(ManComException.Reason.NOT_READY, "service '" + sink.service()
                    + "' has scope = system, which needs Linux with Netty's native epoll transport (Unix sockets"
                    + " that carry descriptors); this runtime uses NIO"));
        }
        String style = sink instanceof ServedStyle st ? st.style() : "callbacks";
        Attachment a = new Attachment(runtime, socket, channels, style, attachments::remove);
        attachments.add(a);
        return a.start();
    }

    private static Listener failed(ManComException cause) {
        CompletableFuture<EndPoint> f = CompletableFuture.failedFuture(cause);
        return new Listener() {
            @Override
            public CompletionStage<EndPoint> ready() {
                return f;
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public CompletionStage<Void> connect(EndPoint endpoint, LinkSink sink, Duration timeout) {
        return CompletableFuture.failedFuture(new ManComException(ManComException.Reason.NOT_READY, "service '"
                + sink.service() + "' has scope = system: the daemon owns " + endpoint + " and hands its connections"
                + " to the processes that register for it; it does not dial"));
    }

    /** Implemented by a runtime's sink that knows the API style its service is served with. */
    public interface ServedStyle {
        /** {@code callbacks} or {@code blocking}: the ManCom-Style header of the attach. */
        String style();
    }

    /** Detaches every service. */
    @Override
    public void close() {
        for (Attachment a : attachments) {
            a.close();
        }
        attachments.clear();
    }
}
