package io.mancom.tcp.internal;

import io.mancom.ManComException;
import io.mancom.ManComException.Reason;
import io.mancom.core.spi.TcpSettings;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@code tcp.idle-timeout} and {@code tcp.read-timeout} on one connection: when either runs out,
 * the connection fails with a {@link ManComException} of reason {@link Reason#IDLE_TIMEOUT} or
 * {@link Reason#READ_TIMEOUT}, passed down the pipeline as an exception; the runtime's last
 * handler closes the connection with it as the cause the application's {@code onClose} gets (and
 * monitoring counts under that reason). On a link that carries a mux session the session ends
 * with it.
 *
 * <p>One per channel, in front of the runtime's handlers; event-loop only.
 */
final class TcpTimeouts extends IdleStateHandler {
    private final Duration idle;
    private final Duration read;
    private boolean fired;

    private TcpTimeouts(Duration idle, Duration read) {
        super(read.toNanos(), 0, idle.toNanos(), TimeUnit.NANOSECONDS);
        this.idle = idle;
        this.read = read;
    }

    /** The handler for a service's timeouts, or null when both are off. */
    static TcpTimeouts of(TcpSettings tcp) {
        if (tcp.idleTimeout().isZero() && tcp.readTimeout().isZero()) {
            return null;
        }
        return new TcpTimeouts(tcp.idleTimeout(), tcp.readTimeout());
    }

    @Override
    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
        if (fired || !ctx.channel().isActive()) {
            return;
        }
        ManComException cause;
        if (evt.state() == IdleState.READER_IDLE) {
            cause = new ManComException(Reason.READ_TIMEOUT, "no byte received from " + ctx.channel().remoteAddress()
                    + " for " + read.toMillis() + " ms (tcp.read-timeout); closed");
        } else if (evt.state() == IdleState.ALL_IDLE) {
            cause = new ManComException(Reason.IDLE_TIMEOUT, "no byte either way with " + ctx.channel().remoteAddress()
                    + " for " + idle.toMillis() + " ms (tcp.idle-timeout); closed");
        } else {
            return;
        }
        fired = true;
        ctx.fireExceptionCaught(cause);
    }
}
