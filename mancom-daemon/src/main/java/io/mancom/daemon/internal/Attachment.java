package io.mancom.daemon.internal;

import io.mancom.core.internal.mux.MuxSessionHandler;
import io.mancom.core.internal.mux.MuxSettings;
import io.mancom.core.internal.mux.MuxStreamAcceptor;
import io.netty.channel.Channel;

import java.time.Duration;

/**
 * One attach connection of a {@code carry = mux} service (docs/daemon.md, "Attach"): the Unix
 * connection of one process, with the daemon's mux session on it. The daemon is the initiator
 * and opens one stream per connection it relays; streams the process opens are refused.
 *
 * <p>Created by {@link RelayOwner#attach} on the connection's event loop; ends when the connection
 * closes (the process detached or died, or the owner closed). Immutable apart from the channel's
 * own state; thread-safe.
 */
final class Attachment {
    /**
     * The session of an attach connection: plain gomux streams ({@code routing = none}: the
     * connection carries one service), the daemon the initiator, no keepalive and no idle
     * timeout (a local socket; a dead process closes it).
     */
    static final MuxSettings SESSION = MuxSettings.builder()
            .enabled(true)
            .routing(MuxSettings.Routing.NONE)
            .role(MuxSettings.Role.INITIATOR)
            .keepaliveInterval(Duration.ZERO)
            .idleTimeout(Duration.ZERO)
            .build();

    final String service;
    final Channel channel;
    final Peer peer;
    final MuxSessionHandler session;

    private Attachment(String service, Channel channel, Peer peer, MuxSessionHandler session) {
        this.service = service;
        this.channel = channel;
        this.peer = peer;
        this.session = session;
    }

    /** Puts the daemon's side of the session on {@code channel} (on its event loop) and turns reading on. */
    static Attachment install(String service, Channel channel, Peer peer) {
        assert channel.eventLoop().inEventLoop();
        MuxSessionHandler session = MuxSessionHandler.install(channel, SESSION, MuxSettings.Role.INITIATOR,
                MuxStreamAcceptor.REFUSE_ALL);
        channel.config().setAutoRead(true);
        return new Attachment(service, channel, peer, session);
    }

    /** Whether the process is still there. */
    boolean isActive() {
        return channel.isActive() && session.isOpen();
    }

    @Override
    public String toString() {
        return "attach connection of '" + service + "' from " + peer;
    }
}
