package io.mancom.core.internal;

import io.mancom.Connection;
import io.mancom.DataReceiver;
import io.mancom.ManComException;
import io.mancom.core.spi.ServiceSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A callback client that dials its service again when its link is lost: {@code reconnect} for
 * links this runtime dials (TCP), as device services have it for the devices they open.
 *
 * <h2>Semantics</h2>
 * <ul>
 *   <li>The first dial is an ordinary {@code connectAsync}: its future completes with the first
 *       connection or fails (refused, timeout) without retrying.</li>
 *   <li>Each link is its own {@link Connection}: the receiver gets {@link DataReceiver#onOpen}
 *       before its first data and one {@link DataReceiver#onClose} when it ends.</li>
 *   <li>A link is lost when it closes with a cause, or after the peer ended its output (the
 *       default {@code onInputShutdown} closes the connection then). The client then dials again
 *       after {@code reconnect.initial-delay}, doubling the wait after each failed dial up to
 *       {@code reconnect.max-delay}, until a dial succeeds; the next loss starts at
 *       {@code initial-delay} again.</li>
 *   <li>It stops when the application closes the connection while the peer still sends (its
 *       close is "I am done"), or when the runtime closes.</li>
 * </ul>
 *
 * <p>Threading: events arrive on the connection's lane; waits are scheduled on the lost
 * connection's event loop; dials run as any connect does. One instance per connectAsync.
 */
final class ReconnectingClient {
    private static final Logger log = LoggerFactory.getLogger(ReconnectingClient.class);

    private final Service s;
    private final DataReceiver receiver;
    private final Dialler dialler;
    private final ServiceSettings.Reconnect reconnect;
    // Changed on the event loops of this client's links, one at a time (a redial follows a loss).
    private volatile long backoffMillis;
    private volatile io.netty.channel.EventLoop loop;

    ReconnectingClient(Service s, DataReceiver receiver, Dialler dialler) {
        this.s = s;
        this.receiver = receiver;
        this.dialler = dialler;
        this.reconnect = s.settings.reconnect();
        this.backoffMillis = initialMillis();
    }

    /** Dials the first link; the future is that link's connection. */
    CompletableFuture<Connection> start() {
        CompletableFuture<Connection> first = new CompletableFuture<>();
        dialler.dial(s, s.settings.connectTimeout(), ch -> Dialler.clientInbound(s, new Link(), first), first);
        return first;
    }

    /** Whether a link that closed with {@code cause} was lost (redial) rather than closed by its owner. */
    static boolean lost(Throwable cause, boolean peerEnded) {
        return cause != null || peerEnded;
    }

    private long initialMillis() {
        return Math.max(1, reconnect.initialDelay().toMillis());
    }

    private void redial(io.netty.channel.EventLoop loop, long delayMillis) {
        try {
            loop.schedule(this::attempt, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.debug("service '{}': not redialling, the runtime is closing", s.name());
        }
    }

    private void attempt() {
        CompletableFuture<Connection> next = new CompletableFuture<>();
        dialler.dial(s, s.settings.connectTimeout(), ch -> Dialler.clientInbound(s, new Link(), next), next);
        next.whenComplete((c, err) -> {
            if (err == null) {
                backoffMillis = initialMillis();
                log.info("service '{}': reconnected ({})", s.name(), c);
                return;
            }
            ManComException m = Futures.asManCom(err);
            if (m.reason() == ManComException.Reason.CLOSED) {
                return; // the runtime is closing
            }
            long wait = backoffMillis;
            backoffMillis = Math.min(backoffMillis * 2, Math.max(1, reconnect.maxDelay().toMillis()));
            log.debug("service '{}': redial failed ({}); next try in {} ms", s.name(), m.getMessage(), wait);
            redial(loop, wait);
        });
    }

    /** The receiver of one link: the application's, plus the loss detection. */
    private final class Link implements DataReceiver {
        private volatile boolean peerEnded;

        @Override
        public void onOpen(Connection connection) {
            receiver.onOpen(connection);
        }

        @Override
        public void onData(Connection connection, ByteBuffer data) {
            receiver.onData(connection, data);
        }

        @Override
        public void onInputShutdown(Connection connection) {
            peerEnded = true;
            receiver.onInputShutdown(connection);
        }

        @Override
        public void onClose(Connection connection, Throwable cause) {
            try {
                receiver.onClose(connection, cause);
            } finally {
                if (lost(cause, peerEnded)) {
                    log.info("service '{}': link lost ({}); redialling in {} ms", s.name(),
                            cause == null ? "the peer closed it" : cause.getMessage(), initialMillis());
                    backoffMillis = initialMillis();
                    loop = ((ChannelConnection) connection).channel().eventLoop();
                    redial(loop, backoffMillis);
                }
            }
        }
    }
}
