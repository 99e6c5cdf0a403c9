package io.mancom.core.internal;

import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxStreamAcceptor;
import io.mancom.core.spi.ChannelSink;
import io.mancom.core.spi.Refusal;
import io.mancom.core.spi.ServiceSettings;
import io.netty.channel.Channel;

import java.util.concurrent.CompletableFuture;

/**
 * Puts a mux session on each link of a {@link LinkGroup} and hands the streams the peer opens to
 * {@code router}. A dialled link completes the dial's {@code session} future; a served one joins
 * the group's served sessions and wakes a connect waiting for the device's next link.
 *
 * <p>{@link #channelOpened} runs on the link's event loop; group state is changed under
 * {@code lock}.
 */
final class MuxLinkSink implements ChannelSink {
    private final Object lock;
    private final LinkGroup g;
    private final boolean dialed;
    private final CompletableFuture<MuxSessionHandler> session;
    private final MuxStreamAcceptor router;
    private final java.util.function.Consumer<Channel> onLink;

    /**
     * @param dialed  whether this runtime dialled the link (TCP: it is then the initiator)
     * @param session completed with the session of a dialled link; null for served links
     * @param onLink  told of each link before its session is installed (monitoring)
     */
    MuxLinkSink(Object lock, LinkGroup g, boolean dialed, CompletableFuture<MuxSessionHandler> session,
                MuxStreamAcceptor router, java.util.function.Consumer<Channel> onLink) {
        this.lock = lock;
        this.g = g;
        this.dialed = dialed;
        this.session = session;
        this.router = router;
        this.onLink = onLink;
    }

    @Override
    public String service() {
        return g.names();
    }

    @Override
    public ServiceSettings settings() {
        return g.linkSettings();
    }

    @Override
    public void refused(Refusal why) {
        router.refused(why);
    }

    @Override
    public void channelOpened(Channel link) {
        onLink.accept(link);
        MuxSessionHandler mux = MuxSessionHandler.install(link, g.mux, g.mux.roleFor(g.symmetric, dialed), router);
        // Transports hand links over with auto-read off; the session is in place now. The
        // session itself keeps reading bounded (stream windows, receive-buffer budget).
        link.config().setAutoRead(true);
        link.read();
        if (dialed) {
            mux.terminationFuture().addListener(f -> {
                synchronized (lock) {
                    if (g.dialed == session) {
                        g.dialed = null; // the next connect dials a new link
                    }
                }
            });
            session.complete(mux);
        } else {
            g.served.add(mux);
            mux.terminationFuture().addListener(f -> g.served.remove(mux));
            CompletableFuture<MuxSessionHandler> waiting;
            synchronized (lock) {
                waiting = g.nextServed;
                g.nextServed = null;
            }
            if (waiting != null) {
                waiting.complete(mux);
            }
        }
    }
}
