package io.mancom.core.internal;

import io.mancom.Connection;
import io.netty.channel.Channel;

import java.util.Optional;

/**
 * The Netty channel under a connection of this runtime, for the daemon (mancom-daemon), which
 * hands a device line's descriptor to a process and needs the {@link
 * io.mancom.core.spi.device.DeviceChannel} its runtime opened. Stateless, any thread.
 */
public final class ConnectionChannels {
    private ConnectionChannels() {
    }

    /** The channel of {@code connection}, or empty if it is not a connection of a ManCom core runtime. */
    public static Optional<Channel> channel(Connection connection) {
        return connection instanceof ChannelConnection c ? Optional.of(c.channel()) : Optional.empty();
    }
}
